#!/usr/bin/env bash
# Builds the local lab's binaries (etcd, kube-apiserver, kube-controller-manager, kubectl, kwok)
# from Go modules with the ordinary `go` command, into a cache directory keyed by version.
# Usage: build.sh [OUT_DIR]   (prints progress lines "phase: ..." to stderr; binaries are never committed)
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${PURPLEKIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/purplekind}
OUT=${1:-$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin}
WORK=$CACHE/build-$K8S_VERSION
export GOTOOLCHAIN=local GOFLAGS=-trimpath CGO_ENABLED=0
STG=v0.${K8S_VERSION#v1.}
MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)
# gitCommit must be set, or kubectl's User-Agent ends in kubernetes/$Format (see README: lab binaries).
COMMIT=${K8S_COMMIT:-0000000000000000000000000000000000000000}
mkdir -p "$OUT" "$WORK"
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
have() { for b in "$@"; do [ -x "$OUT/$b" ] || return 1; done; }

if ! have kube-apiserver kube-controller-manager kubectl; then
  log "k8s: preparing wrapper module for k8s.io/kubernetes@$K8S_VERSION"
  mkdir -p "$WORK/k8s" && cd "$WORK/k8s"
  [ -f go.mod ] || go mod init purplekind.invalid/k8sbin >/dev/null 2>&1
  GOMOD=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  # Generate the staging replace block from the release's own go.mod.
  sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*|\1|p' "$GOMOD" |
    while read -r m; do go mod edit -replace="$m=$m@$STG"; done
  go mod edit -go=1.26.0 -godebug=default=go1.26
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null 2>&1 || go get "k8s.io/kubernetes@$K8S_VERSION"
  go mod tidy >/dev/null 2>&1 || go mod tidy
  LDF="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF="$LDF -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitCommit=$COMMIT -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for c in kube-apiserver kube-controller-manager kubectl; do
    if [ ! -x "$OUT/$c" ]; then
      log "k8s: building $c (cold builds take minutes)"
      go build -ldflags "$LDF" -o "$OUT/$c.tmp" "k8s.io/kubernetes/cmd/$c" && mv "$OUT/$c.tmp" "$OUT/$c"
    fi
  done
fi

if ! have etcd; then
  log "etcd: building go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$WORK/etcd" && cd "$WORK/etcd"
  [ -f go.mod ] || go mod init purplekind.invalid/etcdbin >/dev/null 2>&1
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -ldflags '-s -w' -o "$OUT/etcd.tmp" . && mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

if ! have kwok; then
  log "kwok: building sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  GOBIN="$WORK/kwok-bin" go install -ldflags '-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$WORK/kwok-bin/kwok" "$OUT/kwok"
  # kwok's stage manifests ship in its module; keep a copy beside the binary.
  STAGES=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
  mkdir -p "$OUT/../kwok-stages" && cp -r "$STAGES"/. "$OUT/../kwok-stages/" && chmod -R u+w "$OUT/../kwok-stages"
fi
log "done: $OUT"
echo "$OUT"
