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
for pair in dockerd:docker.io ip:iproute2 iptables:iptables openssl:openssl curl:curl busybox:busybox-static; do
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

# 3. Kubernetes binaries for the local lab, unless the user points at their own.
if [ -z "${PURPLEKIND_ASSETS:-}${KUBEBUILDER_ASSETS:-}" ]; then
  phase "lab binaries (cached by version; a cold build takes ~15 min on 2 cores)"
  bash "$here/lab/assets/build.sh" >/dev/null
fi
phase "ready"
