#!/usr/bin/env bash
# Idempotent machine setup for the live lab: Debian packages, the decoys' Python CLIs, and the lab's
# Kubernetes binaries (built from Go modules, cached outside the clone). Fast when everything is there.
# Run by `npm test` and `npm run purple`; set PURPLEKIND_SKIP_SETUP=1 to skip.
set -euo pipefail
[ "${PURPLEKIND_SKIP_SETUP:-}" = 1 ] && exit 0
here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PURPLEKIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/purplekind}
# As root the venv lives where the local lab's unprivileged exec sandbox (uid 65534) can run it: /root is
# 0700. Its interpreter must be reachable too, so root uses the system python3, not a pyenv one in /root.
if [ "$(id -u)" = 0 ]; then
  VENV=${PURPLEKIND_VENV:-/opt/purplekind/venv}
  PYTHON=${PURPLEKIND_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}
else
  VENV=${PURPLEKIND_VENV:-$CACHE/venv}
  PYTHON=${PURPLEKIND_PYTHON:-python3}
fi
phase() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# 1. Debian packages: Docker Engine, iproute2 (network namespaces), iptables, openssl (lab PKI),
#    curl (exec'd into simulated pods), busybox-static (lab images are built from it, no registry).
need=()
for pair in dockerd:docker.io ip:iproute2 iptables:iptables openssl:openssl curl:curl busybox:busybox-static gcc:gcc; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/bin/$cmd" ] || need+=("$pkg")
done
# The venv module (ensurepip) is a separate Debian package.
"$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    phase "missing packages: ${need[*]} — install them as root: apt-get install -y ${need[*]}"; exit 1
  fi
  phase "apt-get install ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. The real cloud CLIs and the AWS decoy, from PyPI, in a venv outside the clone.
if [ ! -x "$VENV/bin/aws" ] || [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/az" ]; then
  phase "python venv at $VENV: awscli, moto[server], azure-cli (first time: a few minutes)"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check awscli 'moto[server]' azure-cli
fi

# 2b. Independent reference implementations the tests compare the engines with (pySigma).
bash "$here/scripts/pytools.sh" >/dev/null

# 3. Kubernetes binaries for the local lab, unless the user points at their own.
if [ -z "${PURPLEKIND_ASSETS:-}${KUBEBUILDER_ASSETS:-}" ]; then
  phase "lab binaries (cached by version; a cold build takes ~15 min on 2 cores)"
  bash "$here/lab/assets/build.sh" >/dev/null
fi

# 4. Docker Engine: kind runs its nodes in it, and the docker-side steps use it. As root, start Debian's
#    dockerd if nothing answers (its log is owner-only; no --debug, which would log API bodies).
if ! docker info >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; then
  phase "starting dockerd (log /var/log/purplekind/dockerd.log)"
  install -d -m 0700 /var/log/purplekind
  (umask 077; : >>/var/log/purplekind/dockerd.log)
  nohup dockerd >>/var/log/purplekind/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

# 5. The kind lab: its node image, built locally (debootstrap + the binaries above + Debian's containerd),
#    wherever Docker works. PURPLEKIND_SKIP_KIND=1 keeps to the local (simulated-pod) lab.
if [ "${PURPLEKIND_SKIP_KIND:-}" != 1 ] && [ "$(id -u)" = 0 ] && docker info >/dev/null 2>&1; then
  phase "kind node image (cached; first build ~15-30 min on 2 cores)"
  apt-cache policy debootstrap 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -qq
  bash "$here/kind/node-image/build.sh" all >/dev/null
elif [ "${PURPLEKIND_SKIP_KIND:-}" != 1 ]; then
  phase "kind node image skipped: needs root and a working Docker Engine (the local lab is used instead)"
fi
phase "ready"
