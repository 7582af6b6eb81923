#!/usr/bin/env bash
# Builds purplekind's kind node image with no container registry, plus the images the lab runs in it:
#
#   - binaries from Go modules with the ordinary `go` command: kubeadm, kubelet, kube-scheduler,
#     kube-proxy (the same k8s.io/kubernetes wrapper module as lab/assets/build.sh, which also gives etcd,
#     kube-apiserver, kube-controller-manager and kubectl), kind, crictl, CoreDNS and kube-router;
#   - a Debian 12 rootfs (debootstrap, from the mirror apt already uses) with Debian's containerd and runc;
#   - control-plane images as docker-archive tars (mkimage.py), preloaded into the node's containerd store
#     under the names kubeadm asks for; etcd and CoreDNS are our builds, tagged with their real versions
#     under purplekind.local/ (kind's ClusterConfiguration patch points kubeadm at them);
#   - purplekind/workload: the image lab pods run — bash, coreutils, curl and the real aws and az CLIs —
#     also preloaded;
#   - kube-router (NetworkPolicy enforcer), preloaded.
#
#   kind/node-image/build.sh [all|bins|rootfs|images|workload|node|ref]   (default all; stages are cached)
#
# Prints the node image reference on stdout (progress on stderr). Needs root, go, python3, gcc, docker,
# and the host's containerd/ctr (Debian's docker.io brings them) for the preload.
# Env: PURPLEKIND_CACHE, K8S_VERSION, KIND_VERSION, CRICTL_VERSION, COREDNS_VERSION, KUBE_ROUTER_VERSION,
#      PURPLEKIND_VENV (the aws/az CLIs copied into the workload image; scripts/setup.sh makes it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
KIND_VERSION=${KIND_VERSION:-v0.33.0}
CRICTL_VERSION=${CRICTL_VERSION:-v1.36.0}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
KUBE_ROUTER_VERSION=${KUBE_ROUTER_VERSION:-v2.1.0}
CACHE=${PURPLEKIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/purplekind}
VENV=${PURPLEKIND_VENV:-/opt/purplekind/venv}
W=$CACHE/kind-$K8S_VERSION
BIN=$W/bin ROOTFS=$W/rootfs IMG=$W/images
LAB_BIN=$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin
NODE_REPO=purplekind/node
WORKLOAD_IMAGE=purplekind/workload:1
export GOTOOLCHAIN=local GOFLAGS=-trimpath CGO_ENABLED=0
log() { printf '%s kind-node: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }

# Everything that decides the image's content; the tag carries its hash, so a change means a new image.
inputs_hash() {
  { printf '%s\n' "$K8S_VERSION" "$ETCD_VERSION" "$KIND_VERSION" "$CRICTL_VERSION" "$COREDNS_VERSION" "$KUBE_ROUTER_VERSION"
    cat "$HERE/build.sh" "$HERE/mkimage.py" "$HERE"/files/* "$ROOT/kind/kube-router.yaml"
    "$VENV/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true
  } | sha256sum | cut -c1-12
}
NODE_IMAGE=$NODE_REPO:$K8S_VERSION-$(inputs_hash)

stage_bins() {
  mkdir -p "$BIN"
  bash "$ROOT/lab/assets/build.sh" >/dev/null # etcd, kube-apiserver, kube-controller-manager, kubectl
  local c missing=()
  for c in kubeadm kubelet kube-scheduler kube-proxy; do [ -x "$BIN/$c" ] || missing+=("$c"); done
  if [ ${#missing[@]} -gt 0 ]; then
    # A second wrapper module beside build.sh's (same go.mod, so the same dependency versions), with
    # the node-side commands added to its tools.go.
    local M=$CACHE/build-$K8S_VERSION/k8s-node
    mkdir -p "$M" && cp "$CACHE/build-$K8S_VERSION/k8s/go.mod" "$CACHE/build-$K8S_VERSION/k8s/go.sum" "$M/"
    { printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for c in kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler kube-proxy kubeadm; do
        printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
      printf ')\n'; } >"$M/tools.go"
    (cd "$M" && go mod tidy >/dev/null 2>&1 || go mod tidy)
    local LDF="-s -w" p minor
    minor=$(echo "$K8S_VERSION" | cut -d. -f2)
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      LDF="$LDF -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    for c in "${missing[@]}"; do
      log "building $c"
      (cd "$M" && go build -ldflags "$LDF" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c") && mv "$BIN/$c.tmp" "$BIN/$c"
    done
  fi
  gobin() { # NAME MODULE@VERSION
    [ -x "$BIN/$1" ] && return 0
    log "building $1 ($2)"
    local tmp; tmp=$(mktemp -d)
    GOBIN=$tmp go install -ldflags '-s -w' "$2" && mv "$tmp/$1" "$BIN/$1"; rm -rf "$tmp"
  }
  gobin kind "sigs.k8s.io/kind@$KIND_VERSION"
  gobin crictl "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  gobin coredns "github.com/coredns/coredns@$COREDNS_VERSION"
  gobin kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
  for c in etcd kube-apiserver kube-controller-manager kubectl; do cp -u "$LAB_BIN/$c" "$BIN/$c"; done
}

mirror() { # the Debian mirror apt already uses (never written into the image)
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || die "no Debian mirror found in apt's sources"
  echo "$m"
}

stage_rootfs() { # Debian 12 minbase + what kind's base image installs
  [ -f "$ROOTFS/.purplekind-rootfs-ok" ] && return 0
  local t0; t0=$(now)
  mkdir -p "$W/debs" && rm -rf "$W/dbs"
  (cd "$W/debs" && rm -f ./*.deb && apt-get download debootstrap containernetworking-plugins >/dev/null)
  dpkg-deb -x "$W"/debs/debootstrap_*.deb "$W/dbs"
  dpkg-deb -x "$W"/debs/containernetworking-plugins_*.deb "$W/cni"
  rm -rf "$ROOTFS"
  log "debootstrap (bookworm minbase)"
  DEBOOTSTRAP_DIR=$W/dbs/usr/share/debootstrap "$W/dbs/usr/sbin/debootstrap" --variant=minbase \
    --include=systemd,systemd-sysv,dbus,iptables,nftables,ipset,iproute2,ca-certificates,containerd,runc,conntrack,ethtool,socat,mount,util-linux,kmod,procps,libseccomp2,bash,curl,jq,pigz,libcap2-bin \
    bookworm "$ROOTFS" "$(mirror)" >"$W/debootstrap.log" 2>&1 || { tail -20 "$W/debootstrap.log" >&2; die "debootstrap failed"; }
  : >"$ROOTFS/etc/apt/sources.list"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
  touch "$ROOTFS/.purplekind-rootfs-ok"
  log "rootfs: $(($(now) - t0)) s"
}

# copy_libs ROOT DEST FILE...: copy files from ROOT into DEST (same paths) with the libraries ldd names.
copy_libs() {
  local root=$1 dest=$2 f l real; shift 2
  for f in "$@"; do
    mkdir -p "$dest$(dirname "$f")"; cp -a "$root$f" "$dest$f"
    if [ -L "$root$f" ]; then
      real=$(chroot "$root" readlink -f "$f"); mkdir -p "$dest$(dirname "$real")"; cp -a "$root$real" "$dest$real"
    fi
    for l in $(chroot "$root" ldd "$f" 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
      [ -e "$dest$l" ] || { mkdir -p "$dest$(dirname "$l")"; cp -L "$root$l" "$dest$l"; }
    done
  done
}

mk() { python3 "$HERE/mkimage.py" "$@"; }

stage_images() {
  local t0; t0=$(now); mkdir -p "$IMG"; cd "$IMG"
  local want; want=$("$BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION")
  ref() { grep "/$1:" <<<"$want"; }
  local c d
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    d=$IMG/rootfs-$c; rm -rf "$d"; mkdir -p "$d/usr/local/bin" "$d/tmp"; chmod 1777 "$d/tmp"
    cp "$BIN/$c" "$d/usr/local/bin/"
    mk "$d" "$(ref "$c")" "$c.tar"
  done
  # kube-proxy (nftables mode) runs nft; iptables and conntrack for cleanup of older modes.
  d=$IMG/rootfs-kube-proxy; rm -rf "$d"; mkdir -p "$d/usr/local/bin" "$d/etc" "$d/run" "$d/var/lib"
  cp "$BIN/kube-proxy" "$d/usr/local/bin/"
  copy_libs "$ROOTFS" "$d" /usr/sbin/nft /usr/sbin/xtables-nft-multi /usr/sbin/conntrack
  for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do ln -sf xtables-nft-multi "$d/usr/sbin/$c"; done
  mkdir -p "$d/usr/lib/x86_64-linux-gnu" && cp -a "$ROOTFS/usr/lib/x86_64-linux-gnu/xtables" "$d/usr/lib/x86_64-linux-gnu/"
  cp "$ROOTFS/etc/protocols" "$ROOTFS/etc/services" "$d/etc/"
  mk "$d" "$(ref kube-proxy)" kube-proxy.tar
  # kube-router: the firewall controller calls iptables-save/-restore and ipset.
  d=$IMG/rootfs-kube-router; rm -rf "$d"; mkdir -p "$d/usr/local/bin" "$d/etc" "$d/run" "$d/tmp"; chmod 1777 "$d/tmp"
  cp "$BIN/kube-router" "$d/usr/local/bin/"
  copy_libs "$ROOTFS" "$d" /usr/sbin/xtables-nft-multi /usr/sbin/ipset /usr/sbin/conntrack /bin/ip
  for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do ln -sf xtables-nft-multi "$d/usr/sbin/$c"; done
  mkdir -p "$d/usr/lib/x86_64-linux-gnu" && cp -a "$ROOTFS/usr/lib/x86_64-linux-gnu/xtables" "$d/usr/lib/x86_64-linux-gnu/"
  cp "$ROOTFS/etc/protocols" "$ROOTFS/etc/services" "$d/etc/"
  mk "$d" "purplekind.local/kube-router:$KUBE_ROUTER_VERSION" kube-router.tar -- /usr/local/bin/kube-router
  # etcd and CoreDNS: our builds, under their own versions (kind.yaml points kubeadm at these tags).
  d=$IMG/rootfs-etcd; rm -rf "$d"; mkdir -p "$d/usr/local/bin" "$d/var/lib/etcd" "$d/tmp"; chmod 1777 "$d/tmp"
  cp "$BIN/etcd" "$d/usr/local/bin/"
  mk "$d" "purplekind.local/etcd:$ETCD_VERSION" etcd.tar
  d=$IMG/rootfs-coredns; rm -rf "$d"; mkdir -p "$d/etc/coredns"
  cp "$BIN/coredns" "$d/coredns"
  mk "$d" "purplekind.local/coredns:$COREDNS_VERSION" coredns.tar -- /coredns
  # pause: kubelet's sandbox process (sleeps; exits on INT/TERM; reaps children)
  mkdir -p src
  cat >src/pause.c <<'C'
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void down(int s) { (void)s; exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction d = {.sa_handler = down}, r = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &d, NULL); sigaction(SIGTERM, &d, NULL); sigaction(SIGCHLD, &r, NULL);
  for (;;) pause();
}
C
  gcc -Os -static -o src/pause src/pause.c && strip src/pause
  d=$IMG/rootfs-pause; rm -rf "$d"; mkdir -p "$d"; cp src/pause "$d/pause"
  mk "$d" "$(ref pause)" pause.tar -- /pause
  workload_image
  log "images: $(($(now) - t0)) s"
}

# purplekind/workload: what lab pods run. The host's own python3.11 (Debian 12, the interpreter the venv
# was made with), the venv holding the real aws and az CLIs (minus the AWS decoy's server-side packages),
# bash, coreutils, curl, with every library ldd names.
workload_image() {
  [ -x "$VENV/bin/aws" ] && [ -x "$VENV/bin/az" ] || die "$VENV has no aws/az CLIs (run scripts/setup.sh)"
  local d=$IMG/rootfs-workload f
  rm -rf "$d"; mkdir -p "$d/tmp" "$d/root" "$d/etc/ssl/certs" "$d/usr/local/bin"; chmod 1777 "$d/tmp"
  local elfs=(/bin/bash /usr/bin/curl /usr/bin/python3.11 /usr/bin/env /usr/bin/sleep /usr/bin/cat /usr/bin/ls
    /usr/bin/cp /usr/bin/mkdir /usr/bin/head /usr/bin/base64 /usr/bin/id /usr/bin/hostname /usr/bin/grep /usr/bin/sed)
  copy_libs / "$d" "${elfs[@]}"
  ln -sf bash "$d/bin/sh"; ln -sf python3.11 "$d/usr/bin/python3"
  mkdir -p "$d/usr/lib" && cp -a /usr/lib/python3.11 "$d/usr/lib/"
  for f in /usr/lib/python3.11/lib-dynload/*.so; do copy_libs / "$d" "$f"; done
  mkdir -p "$d$(dirname "$VENV")"
  tar -C "$(dirname "$VENV")" -cf - --exclude='site-packages/moto' --exclude='site-packages/cfnlint' \
    --exclude='site-packages/sympy' --exclude='site-packages/networkx' --exclude='site-packages/mpmath' \
    "$(basename "$VENV")" | tar -C "$d$(dirname "$VENV")" -xf -
  # The system libraries the venv's compiled modules load (wheels bring the rest in their .libs dirs).
  local l
  for l in $(find "$d$VENV" -name '*.so*' -type f -exec ldd {} + 2>/dev/null | awk '/=> \// {print $3}' | grep -v "^$d" | sort -u); do
    [ -e "$d$l" ] || { mkdir -p "$d$(dirname "$l")"; cp -L "$l" "$d$l"; }
  done
  ln -sf "$VENV/bin/aws" "$d/usr/local/bin/aws"; ln -sf "$VENV/bin/az" "$d/usr/local/bin/az"
  cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  echo purplekind-workload >"$d/etc/hostname"
  mk "$d" "$WORKLOAD_IMAGE" workload.tar --label purplekind.io/managed=true --env HOME=/root --env LANG=C.UTF-8
}

stage_node() {
  if docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then return 0; fi
  local t0; t0=$(now); local N=$W/node K
  K=$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files
  [ -d "$K" ] || (cd "$W" && go mod download "sigs.k8s.io/kind@$KIND_VERSION" >/dev/null)
  rm -rf "$N"; mkdir -p "$N"; cp -a "$ROOTFS/." "$N/"; rm -f "$N/.purplekind-rootfs-ok"
  # kind's base-image contract: its files, as its Dockerfile copies them ...
  install -m 0755 "$K"/usr/local/bin/* "$N/usr/local/bin/"
  mkdir -p "$N/kind" && cp -r "$K/kind/." "$N/kind/" && find "$N/kind" -type f -exec chmod 0644 {} + && chmod 0755 "$N/kind" "$N/kind/bin" "$N"/kind/bin/*
  mkdir -p "$N/LICENSES" "$N/etc/containerd" "$N/etc/default" "$N/etc/sysctl.d" "$N/etc/systemd/system/kubelet.service.d"
  install -m 0644 "$K"/LICENSES/* "$N/LICENSES/"
  install -m 0644 "$K"/etc/crictl.yaml "$N/etc/"
  install -m 0644 "$K"/etc/containerd/* "$N/etc/containerd/"
  install -m 0644 "$K"/etc/default/* "$N/etc/default/"
  install -m 0644 "$K"/etc/sysctl.d/* "$N/etc/sysctl.d/"
  install -m 0644 "$K"/etc/systemd/system/*.service "$K"/etc/systemd/system/*.slice "$N/etc/systemd/system/"
  install -m 0644 "$K"/etc/systemd/system/kubelet.service.d/* "$N/etc/systemd/system/kubelet.service.d/"
  # ... and its RUN steps
  find "$N/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$N"/lib/systemd/system/multi-user.target.wants/* "$N"/etc/systemd/system/*.wants/* \
    "$N"/lib/systemd/system/local-fs.target.wants/* "$N"/lib/systemd/system/sockets.target.wants/*udev* \
    "$N"/lib/systemd/system/sockets.target.wants/*initctl* "$N"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$N/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$N/sbin/init"
  chroot "$N" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$N" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$N/etc/kubernetes/manifests"
  # Debian's containerd 1.6 and runc 1.1 where kind ships 2.x / 1.4 (kind's units call /usr/local/bin).
  ln -sf /usr/bin/containerd "$N/usr/local/bin/containerd"; ln -sf /usr/bin/ctr "$N/usr/local/bin/ctr"
  chroot "$N" sh -c 'ctr oci spec | jq ".hooks.createContainer[.hooks.createContainer|length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" | jq "del(.process.rlimits)" >/etc/containerd/cri-base.json'
  local pause; pause=$("$BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" | grep /pause:)
  sed -i "s|sandbox_image = .*|sandbox_image = \"$pause\"|" "$N/etc/containerd/config.toml"
  install -m 0755 "$BIN/kubeadm" "$BIN/kubelet" "$BIN/kubectl" "$N/usr/bin/"
  install -m 0755 "$BIN/crictl" "$N/usr/local/bin/"
  mkdir -p "$N/opt/cni/bin" "$N/etc/cni/net.d"
  for p in bridge host-local loopback portmap; do install -m 0755 "$W/cni/usr/lib/cni/$p" "$N/opt/cni/bin/"; done
  install -m 0644 "$HERE/files/10-purplekind-bridge.conflist" "$N/etc/cni/net.d/"
  install -m 0755 "$HERE/files/purplekind-entrypoint" "$N/usr/local/bin/"
  echo "$K8S_VERSION" >"$N/kind/version"
  # Preload every image into the node's containerd store (as `kind build node-image` does): the host's
  # containerd on a private socket, its root inside the node tree, CRI off, layers left packed.
  local S=$W/ctrd cpid tar
  rm -rf "$S"; mkdir -p "$S"
  cat >"$S/config.toml" <<EOF
version = 2
root = "$N/var/lib/containerd"
state = "$S/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$S/c.sock"
[ttrpc]
  address = "$S/c.sock.ttrpc"
EOF
  containerd --config "$S/config.toml" >"$S/log" 2>&1 & cpid=$!
  for _ in $(seq 100); do [ -S "$S/c.sock" ] && break; sleep 0.1; done
  [ -S "$S/c.sock" ] || { kill "$cpid"; die "private containerd did not start: $(tail -3 "$S/log")"; }
  for tar in kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns pause kube-router workload; do
    ctr --address "$S/c.sock" -n k8s.io images import --all-platforms --no-unpack "$IMG/$tar.tar" >/dev/null
  done
  ctr --address "$S/c.sock" -n k8s.io images ls -q >"$W/preloaded.txt"
  kill "$cpid"; wait "$cpid" 2>/dev/null || true
  rm -rf "$N/var/lib/containerd/tmpmounts" "$S"
  log "docker import $NODE_IMAGE"
  tar --numeric-owner --xattrs -C "$N" -c . | docker import \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/purplekind-entrypoint", "/sbin/init"]' \
    --message "purplekind kind node $K8S_VERSION" - "$NODE_IMAGE-rootfs" >/dev/null
  # Docker 20.10's import rejects STOPSIGNAL and LABEL: add them with a metadata-only build of the local
  # base (the classic builder pulls nothing for a local FROM).
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL purplekind.io/managed=true purplekind.io/kubernetes=%s purplekind.io/etcd=%s purplekind.io/coredns=%s purplekind.io/kube-router=%s purplekind.io/runtime=%s\n' \
    "$NODE_IMAGE-rootfs" "$K8S_VERSION" "$ETCD_VERSION" "$COREDNS_VERSION" "$KUBE_ROUTER_VERSION" \
    "containerd://$(chroot "$N" dpkg-query -W -f '${Version}' containerd)" |
    DOCKER_BUILDKIT=0 docker build -q -t "$NODE_IMAGE" - >/dev/null
  docker image rm "$NODE_IMAGE-rootfs" >/dev/null
  docker tag "$NODE_IMAGE" "$NODE_REPO:$K8S_VERSION"
  rm -rf "$N"
  log "node image $NODE_IMAGE: $(($(now) - t0)) s"
}

case ${1:-all} in
  bins) stage_bins ;;
  rootfs) stage_rootfs ;;
  images) stage_images ;;
  node) stage_node ;;
  workload) mkdir -p "$IMG" && cd "$IMG" && workload_image ;;
  ref) ;;
  all)
    if ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
      T=$(now); stage_bins; stage_rootfs; stage_images; stage_node; log "built in $(($(now) - T)) s"
    fi ;;
  *) echo "usage: $0 [all|bins|rootfs|images|workload|node|ref]" >&2; exit 2 ;;
esac
echo "$NODE_IMAGE"
