#!/usr/bin/env bash
# Bring up (or reuse) a purplekind kind cluster. Driven by src/lab/kind/index.ts; usable by hand.
#
#   kind/up.sh <name> <kind-config.yaml> <node-guard.sh>
#
# Environment (all optional):
#   KUBECONFIG                  kubeconfig kind writes the cluster's context into (kind's default otherwise)
#   PURPLEKIND_KIND             the kind binary (default: kind on PATH)
#   PURPLEKIND_KUBECTL          the kubectl binary (default: kubectl on PATH)
#   PURPLEKIND_KIND_NETWORK     docker network the nodes join (created beforehand by the provider)
#   PURPLEKIND_DOCKER_SHIM=1    give kind kind/docker-shim.sh as its docker (hosts where --privileged fails)
#   PURPLEKIND_NETPOL_MANIFEST  NetworkPolicy enforcer to apply after create (kind/kube-router.yaml)
#   PURPLEKIND_WORKLOAD_ARCHIVE image archive to load when the nodes lack purplekind/workload:1
#   PURPLEKIND_WAIT             readiness timeout (default 180s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "kind/up.sh: error: $*" >&2; exit 1; }
say() { echo "kind/up.sh: $*"; }
t0=$(date +%s)
took() { echo "$(($(date +%s) - t0))s"; }

[[ $# -eq 3 ]] || die "usage: kind/up.sh <name> <kind-config.yaml> <node-guard.sh>"
name=$1 config=$2 guard=$3
kind=${PURPLEKIND_KIND:-kind}
kubectl=${PURPLEKIND_KUBECTL:-kubectl}
wait_for=${PURPLEKIND_WAIT:-180s}
command -v "$kind" >/dev/null || die "kind is not on PATH (kind/node-image/build.sh builds it)"
docker info >/dev/null 2>&1 || die "the docker daemon is not reachable"
[[ -f $config ]] || die "kind config $config does not exist"
# Without the guard a pod's curl to 169.254.169.254 could reach a real cloud metadata service.
[[ -f $guard ]] || die "node guard script $guard does not exist (refusing to run without it)"

kubeconfig_args=()
[[ -n ${KUBECONFIG:-} ]] && kubeconfig_args=(--kubeconfig "$KUBECONFIG")
[[ -n ${PURPLEKIND_KIND_NETWORK:-} ]] && export KIND_EXPERIMENTAL_DOCKER_NETWORK=$PURPLEKIND_KIND_NETWORK
k() { "$kubectl" --context "kind-$name" "${kubeconfig_args[@]}" "$@"; }

# kind alone sees the shim as `docker`.
kind_env=()
if [[ ${PURPLEKIND_DOCKER_SHIM:-} == 1 ]]; then
  shim_dir=$(mktemp -d)
  trap 'rm -rf "$shim_dir"' EXIT
  ln -s "$here/docker-shim.sh" "$shim_dir/docker"
  kind_env=(env "PATH=$shim_dir:$PATH" "PURPLEKIND_REAL_DOCKER=$(command -v docker)")
  say "docker --privileged does not work on this host: kind runs through kind/docker-shim.sh"
fi

running() { [[ $(docker inspect -f '{{.State.Running}}' "$name-control-plane" 2>/dev/null) == true ]]; }
if "${kind_env[@]}" "$kind" get clusters 2>/dev/null | grep -qx "$name" && ! running; then
  # Its node container stopped (a host reboot, dockerd restarted): kind cannot restart it; start afresh.
  say "cluster $name exists but its node is not running: recreating it"
  "$kind" delete cluster --name "$name" "${kubeconfig_args[@]}"
fi
if "${kind_env[@]}" "$kind" get clusters 2>/dev/null | grep -qx "$name"; then
  say "cluster $name already exists, reusing it"
else
  say "creating cluster $name"
  "${kind_env[@]}" "$kind" create cluster --name "$name" --config "$config" --wait "$wait_for" "${kubeconfig_args[@]}"
  say "cluster created ($(took))"
fi

nodes=$("${kind_env[@]}" "$kind" get nodes --name "$name")
[[ -n $nodes ]] || die "cluster $name has no nodes"
for node in $nodes; do
  docker exec -i "$node" sh <"$guard" || die "could not install the IMDS namespace and egress guard on $node"
done

if [[ -n ${PURPLEKIND_WORKLOAD_ARCHIVE:-} ]]; then
  for node in $nodes; do
    if ! docker exec "$node" crictl inspecti -q purplekind/workload:1 >/dev/null 2>&1; then
      say "loading purplekind/workload:1 into $node"
      "${kind_env[@]}" "$kind" load image-archive "$PURPLEKIND_WORKLOAD_ARCHIVE" --name "$name" --nodes "$node"
    fi
  done
fi

# kind's --wait covers the nodes only: the policy enforcer and CoreDNS must run, pods need the default
# ServiceAccount. The three waits overlap.
waits=()
if [[ -n ${PURPLEKIND_NETPOL_MANIFEST:-} ]]; then
  k apply -f "$PURPLEKIND_NETPOL_MANIFEST" >/dev/null
  k -n kube-system rollout status daemonset/purplekind-netpol --timeout "$wait_for" >/dev/null & waits+=($!)
fi
k -n kube-system rollout status deployment/coredns --timeout "$wait_for" >/dev/null & waits+=($!)
until k get serviceaccount default >/dev/null 2>&1; do sleep 0.3; done
for w in "${waits[@]}"; do wait "$w" || die "the NetworkPolicy enforcer or CoreDNS did not become ready"; done
say "cluster $name is up (context kind-$name, $(took))"
