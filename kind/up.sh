#!/usr/bin/env bash
# Bring up (or reuse) a purplekind kind cluster. Driven by src/lab/kind/index.ts; usable by hand.
#
#   kind/up.sh <name> <kind-config.yaml> <imds-redirect.sh>
#
# Environment (all optional):
#   KUBECONFIG                 kubeconfig kind writes the cluster's context into (kind's default otherwise)
#   PURPLEKIND_KIND_NETWORK    docker network the nodes join (created beforehand by the provider)
#   PURPLEKIND_IMAGES          images to load into the nodes (default: purplekind/victim:1 purplekind/toolbox:1)
#   PURPLEKIND_CNI_MANIFEST    CNI manifest to apply when the config sets networking.disableDefaultCNI
#   PURPLEKIND_WAIT            readiness timeout (default 300s)
set -euo pipefail

die() { echo "kind/up.sh: error: $*" >&2; exit 1; }
say() { echo "kind/up.sh: $*"; }

[[ $# -eq 3 ]] || die "usage: kind/up.sh <name> <kind-config.yaml> <imds-redirect.sh>"
name=$1 config=$2 imds_script=$3
images=${PURPLEKIND_IMAGES:-purplekind/victim:1 purplekind/toolbox:1}
wait_for=${PURPLEKIND_WAIT:-300s}

command -v kind >/dev/null || die "kind is not on PATH (install: go install sigs.k8s.io/kind@v0.33.0)"
command -v docker >/dev/null || die "docker is not on PATH"
docker info >/dev/null 2>&1 || die "the docker daemon is not reachable"
[[ -f $config ]] || die "kind config $config does not exist"
# Without the redirect a pod's curl to 169.254.169.254 could reach a real cloud metadata service.
[[ -f $imds_script ]] || die "IMDS redirect script $imds_script does not exist (refusing to run without it)"

kubeconfig_args=()
[[ -n ${KUBECONFIG:-} ]] && kubeconfig_args=(--kubeconfig "$KUBECONFIG")
[[ -n ${PURPLEKIND_KIND_NETWORK:-} ]] && export KIND_EXPERIMENTAL_DOCKER_NETWORK=$PURPLEKIND_KIND_NETWORK

for image in $images; do
  docker image inspect "$image" >/dev/null 2>&1 \
    || die "image $image is not present locally (purplekind never pulls images; build it first)"
done

if kind get clusters 2>/dev/null | grep -qx "$name"; then
  say "cluster $name already exists, reusing it"
elif [[ -n ${PURPLEKIND_CNI_MANIFEST:-} ]]; then
  [[ -f $PURPLEKIND_CNI_MANIFEST ]] || die "CNI manifest $PURPLEKIND_CNI_MANIFEST does not exist"
  say "creating cluster $name (custom CNI)"
  kind create cluster --name "$name" --config "$config" "${kubeconfig_args[@]}"
  # Nodes stay NotReady until a CNI runs, so kind's --wait cannot be used here.
  kubectl --context "kind-$name" "${kubeconfig_args[@]}" apply -f "$PURPLEKIND_CNI_MANIFEST"
  kubectl --context "kind-$name" "${kubeconfig_args[@]}" wait --for=condition=Ready nodes --all --timeout "$wait_for"
else
  say "creating cluster $name"
  kind create cluster --name "$name" --config "$config" --wait "$wait_for" "${kubeconfig_args[@]}"
fi

# shellcheck disable=SC2086 # word splitting of the image list is intended
kind load docker-image --name "$name" $images

nodes=$(kind get nodes --name "$name")
[[ -n $nodes ]] || die "cluster $name has no nodes"
for node in $nodes; do
  say "redirecting 169.254.169.254 to the IMDS decoy on $node"
  docker exec -i "$node" sh <"$imds_script" || die "could not install the IMDS redirect on $node"
done

say "cluster $name is up (context kind-$name)"
