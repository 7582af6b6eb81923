#!/usr/bin/env bash
# Delete a purplekind kind cluster. Safe to run when the cluster does not exist.
#
#   kind/down.sh <name>
#
# Environment: KUBECONFIG (optional) — the kubeconfig up.sh wrote the context into;
#              PURPLEKIND_KIND (optional) — the kind binary (default: kind on PATH).
set -euo pipefail

die() { echo "kind/down.sh: error: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: kind/down.sh <name>"
name=$1
kind=${PURPLEKIND_KIND:-kind}
command -v "$kind" >/dev/null || die "kind is not on PATH"

kubeconfig_args=()
[[ -n ${KUBECONFIG:-} ]] && kubeconfig_args=(--kubeconfig "$KUBECONFIG")

if "$kind" get clusters 2>/dev/null | grep -qx "$name"; then
  "$kind" delete cluster --name "$name" "${kubeconfig_args[@]}"
  echo "kind/down.sh: cluster $name deleted"
else
  echo "kind/down.sh: cluster $name does not exist, nothing to delete"
fi
