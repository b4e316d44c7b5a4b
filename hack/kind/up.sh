#!/usr/bin/env bash
# smartmig on kind, for people with Docker (not run in CI): creates the kind cluster, builds the image
# and loads it into kind, installs the chart (operator, extender, secondary kube-scheduler, CRDs, RBAC)
# and starts emulated GPU nodes with `smartmig fake-gpu` on this machine.
#
# Environment:
#   KIND_CLUSTER_NAME   cluster name (default smartmig)
#   KIND_NODE_IMAGE     kindest/node image (default: the one of your kind version)
#   FAKE_GPU_ARGS       arguments of `smartmig fake-gpu` (default: 4 nodes of 8 A100-40GB, all-1g.5gb)
set -euo pipefail

KIND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$KIND_DIR/../.." && pwd)"
# shellcheck source=hack/lib/log.sh
source "$ROOT/hack/lib/log.sh"

CLUSTER="${KIND_CLUSTER_NAME:-smartmig}"
IMAGE="smartmig:dev"
STATE="$ROOT/.local/kind"
# The GPU operator's mig-manager reads one mig-parted ConfigMap; the operator writes to it and fake-gpu,
# standing in for mig-manager, must read the same one (docs/install.md sets it up the same way).
MIG_CONFIG_NS=gpu-operator
MIG_CONFIG_MAP=smartmig-mig-parted-config
read -r -a FAKE_GPU <<<"${FAKE_GPU_ARGS:---nodes 4 --gpus-per-node 8 --gpu A100-40GB --layout all-1g.5gb}"

for cmd in docker kind kubectl helm node; do
  command -v "$cmd" >/dev/null || die "$cmd is required"
done
mkdir -p "$STATE"
export KUBECONFIG="$STATE/kubeconfig"

if kind get clusters | grep -qx "$CLUSTER"; then
  log "kind cluster $CLUSTER exists"
  kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
else
  log "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --config "$KIND_DIR/kind-config.yaml" --kubeconfig "$KUBECONFIG" \
    ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
fi

log "building $IMAGE"
docker build -t "$IMAGE" "$ROOT"
kind load docker-image "$IMAGE" --name "$CLUSTER"

log "creating the mig-parted ConfigMap $MIG_CONFIG_NS/$MIG_CONFIG_MAP"
kubectl create namespace "$MIG_CONFIG_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$MIG_CONFIG_NS" create configmap "$MIG_CONFIG_MAP" --dry-run=client -o yaml \
  --from-literal=config.yaml=$'version: v1\nmig-configs:\n  all-disabled:\n    - devices: all\n      mig-enabled: false\n' |
  kubectl apply -f -

# The emulated GPU nodes have no kubelet, so the smartmig pods are kept on the worker labelled for them.
log "installing the chart"
helm upgrade --install smartmig "$ROOT/charts/smartmig" \
  --namespace smartmig-system --create-namespace \
  --set image.repository=smartmig --set image.tag=dev --set image.pullPolicy=IfNotPresent \
  --set operator.migConfigMap="$MIG_CONFIG_NS/$MIG_CONFIG_MAP" \
  --set-string 'operator.nodeSelector.smartmig\.io/system=true' \
  --set-string 'extender.nodeSelector.smartmig\.io/system=true' \
  --set-string 'scheduler.nodeSelector.smartmig\.io/system=true' \
  --wait --timeout 5m

if [[ -s "$STATE/fake-gpu.pid" ]] && kill -0 "$(<"$STATE/fake-gpu.pid")" 2>/dev/null; then
  log "smartmig fake-gpu is running (pid $(<"$STATE/fake-gpu.pid"))"
else
  log "starting smartmig fake-gpu ${FAKE_GPU[*]} (log: $STATE/fake-gpu.log)"
  (cd "$ROOT" && setsid node bin/smartmig.js fake-gpu --config-map "$MIG_CONFIG_NS/$MIG_CONFIG_MAP" "${FAKE_GPU[@]}" >"$STATE/fake-gpu.log" 2>&1 </dev/null &
    echo $! >"$STATE/fake-gpu.pid")
fi

log "ready: export KUBECONFIG=$KUBECONFIG; pods opt in with schedulerName: smartmig-scheduler"
