#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback, without containers:
#   etcd, kube-apiserver (RBAC on), kube-controller-manager,
#   kube-scheduler       (profile default-scheduler, no extender: the cluster's ordinary scheduler),
#   smartmig-scheduler   (a second kube-scheduler, profile smartmig-scheduler, extender at
#                         $SMARTMIG_EXTENDER_URL: the secondary scheduler the Helm chart deploys).
# State lives in .local/ (git-ignored): PKI, kubeconfigs, env, cluster.json, logs/, pids/, etcd/.
# Idempotent: components already running are left alone; a second run only checks readiness. When
# SMARTMIG_EXTENDER_URL or SMARTMIG_EXTENDER_NODE_CACHE change, only smartmig-scheduler restarts.
# Binaries come from hack/build-k8s.sh (run it first; .ci/run and the vitest global setup do).
#
# Environment:
#   SMARTMIG_LOCAL_DIR            state directory (default: <repo>/.local)
#   SMARTMIG_EXTENDER_URL         extender URL prefix (default http://127.0.0.1:8888/scheduler)
#   SMARTMIG_EXTENDER_NODE_CACHE  nodeCacheCapable (default true)
#   SMARTMIG_EXTENDER_TIMEOUT     extender httpTimeout (default 10s)
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK_DIR/lib/versions.sh"
# shellcheck source=hack/lib/log.sh
source "$HACK_DIR/lib/log.sh"
# shellcheck source=hack/lib/pki.sh
source "$HACK_DIR/lib/pki.sh"
# shellcheck source=hack/lib/proc.sh
source "$HACK_DIR/lib/proc.sh"
# shellcheck source=hack/lib/mig-resources.sh
source "$HACK_DIR/lib/mig-resources.sh"

LOCAL_DIR="${SMARTMIG_LOCAL_DIR:-$ROOT/.local}"
mkdir -p "$LOCAL_DIR"
LOCAL_DIR="$(cd "$LOCAL_DIR" && pwd)"
PKI="$LOCAL_DIR/pki"
PID_DIR="$LOCAL_DIR/pids"
LOG_DIR="$LOCAL_DIR/logs"
PORTS_FILE="$LOCAL_DIR/ports.env"

EXTENDER_URL="${SMARTMIG_EXTENDER_URL:-http://127.0.0.1:8888/scheduler}"
EXTENDER_NODE_CACHE="${SMARTMIG_EXTENDER_NODE_CACHE:-true}"
EXTENDER_TIMEOUT="${SMARTMIG_EXTENDER_TIMEOUT:-10s}"
[[ "$EXTENDER_NODE_CACHE" == true || "$EXTENDER_NODE_CACHE" == false ]] ||
  die "SMARTMIG_EXTENDER_NODE_CACHE must be true or false, not '$EXTENDER_NODE_CACHE'"

for b in "${K8S_BINARIES[@]}"; do
  [[ -x "$K8S_BIN/$b" ]] || die "$K8S_BIN/$b is missing: run hack/build-k8s.sh first"
done
[[ -x "$ETCD_BIN/etcd" ]] || die "$ETCD_BIN/etcd is missing: run hack/build-k8s.sh first"
command -v openssl >/dev/null || die "openssl is needed (apt-get install openssl)"
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

# One local-up or local-down at a time (tests of several checkouts may call this concurrently).
exec 9>"$LOCAL_DIR/.lock"
flock -w 600 9 || die "another hack/local-up.sh or local-down.sh holds $LOCAL_DIR/.lock"

https_ok() { curl -sf --max-time 2 --cacert "$PKI/ca.crt" "$@"; }
etcd_ready() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_ready() {
  https_ok --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" | grep -qx ok
}
# kube-controller-manager and the schedulers serve self-signed certificates; /healthz needs no credentials.
component_ready() { curl -skf --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }

# ---- ports: kept while etcd and the apiserver run, chosen afresh otherwise ----
if [[ -f "$PORTS_FILE" ]]; then
  # shellcheck source=/dev/null
  source "$PORTS_FILE"
fi
if proc_running etcd && proc_running kube-apiserver && etcd_ready && apiserver_ready; then
  log "etcd and kube-apiserver are up (https://127.0.0.1:$APISERVER_PORT)"
  FRESH=false
else
  proc_stop smartmig-scheduler kube-scheduler kube-controller-manager
  proc_stop kube-apiserver
  proc_stop etcd
  ETCD_PORT="$(pick_port 23790)"
  ETCD_PEER_PORT="$(pick_port 23800 "$ETCD_PORT")"
  APISERVER_PORT="$(pick_port 26443 "$ETCD_PORT" "$ETCD_PEER_PORT")"
  KCM_PORT="$(pick_port 26257 "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT")"
  SCHEDULER_PORT="$(pick_port 26259 "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT")"
  SMARTMIG_SCHEDULER_PORT="$(pick_port 26260 "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT")"
  cat >"$PORTS_FILE" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
SMARTMIG_SCHEDULER_PORT=$SMARTMIG_SCHEDULER_PORT
EOF
  FRESH=true
fi
SERVER="https://127.0.0.1:$APISERVER_PORT"

# ---- PKI and kubeconfigs (existing files are kept) ----
pki_ca "$PKI" ca
pki_ca "$PKI" front-proxy-ca
pki_cert "$PKI" front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
pki_service_accounts "$PKI"
pki_cert "$PKI" apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
pki_client "$PKI" admin smartmig-admin system:masters
pki_client "$PKI" controller-manager system:kube-controller-manager
pki_client "$PKI" scheduler system:kube-scheduler
# Identities for least-privilege tests: their RBAC comes from charts/smartmig/templates.
pki_client "$PKI" extender smartmig-extender
pki_client "$PKI" operator smartmig-operator
# Bound to nothing: proves RBAC denies.
pki_client "$PKI" unprivileged smartmig-unprivileged
write_kubeconfig "$LOCAL_DIR/kubeconfig" "$SERVER" "$PKI/ca.crt" "$PKI/admin.crt" "$PKI/admin.key" smartmig-admin
write_kubeconfig "$LOCAL_DIR/controller-manager.kubeconfig" "$SERVER" "$PKI/ca.crt" \
  "$PKI/controller-manager.crt" "$PKI/controller-manager.key" system:kube-controller-manager
write_kubeconfig "$LOCAL_DIR/scheduler.kubeconfig" "$SERVER" "$PKI/ca.crt" \
  "$PKI/scheduler.crt" "$PKI/scheduler.key" system:kube-scheduler
write_kubeconfig "$LOCAL_DIR/extender.kubeconfig" "$SERVER" "$PKI/ca.crt" "$PKI/extender.crt" "$PKI/extender.key" smartmig-extender
write_kubeconfig "$LOCAL_DIR/operator.kubeconfig" "$SERVER" "$PKI/ca.crt" "$PKI/operator.crt" "$PKI/operator.key" smartmig-operator
write_kubeconfig "$LOCAL_DIR/unprivileged.kubeconfig" "$SERVER" "$PKI/ca.crt" \
  "$PKI/unprivileged.crt" "$PKI/unprivileged.key" smartmig-unprivileged

# ---- etcd and kube-apiserver ----
if [[ "$FRESH" == true ]]; then
  log "starting etcd $ETCD_VERSION on 127.0.0.1:$ETCD_PORT"
  proc_start etcd "$ETCD_BIN/etcd" \
    --name=smartmig-local \
    --data-dir="$LOCAL_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="smartmig-local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync \
    --auto-compaction-mode=periodic --auto-compaction-retention=5m \
    --log-level=warn
  wait_until etcd 60 etcd_ready

  log "starting kube-apiserver $K8S_VERSION on $SERVER"
  proc_start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$APISERVER_PORT" \
    --cert-dir="$LOCAL_DIR/apiserver-certs" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --etcd-compaction-interval=1m \
    --tls-cert-file="$PKI/apiserver.crt" \
    --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount,TaintNodesByCondition \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false \
    --v=1
  wait_until kube-apiserver 120 apiserver_ready
fi

# ---- kube-controller-manager ----
# Without kubelets, node-lifecycle-controller would mark every fake Node unreachable and taint it;
# the emulated GPU nodes (smartmig fake-gpu) play the kubelet instead. (Kubernetes 1.37 no longer has the
# cloud controllers that older versions needed switched off here.)
if ! proc_running kube-controller-manager; then
  log "starting kube-controller-manager on 127.0.0.1:$KCM_PORT"
  proc_start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$LOCAL_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$LOCAL_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$LOCAL_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$KCM_PORT" \
    --cert-dir="$LOCAL_DIR/controller-manager-certs" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" \
    --cluster-signing-key-file="$PKI/ca.key" \
    --cluster-name=smartmig-local \
    --controllers='*,-node-lifecycle-controller' \
    --v=1
fi
wait_until kube-controller-manager 90 component_ready "$KCM_PORT"

# ---- schedulers ----
scheduler_config() {
  local name="$1"
  cat <<EOF
# Generated by hack/local-up.sh.
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $LOCAL_DIR/scheduler.kubeconfig
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: $name
EOF
}

# start_scheduler NAME PORT CONFIG_TEXT: (re)starts kube-scheduler NAME when its config changed.
start_scheduler() {
  local name="$1" port="$2" config="$3"
  local file="$LOCAL_DIR/$name.yaml"
  if proc_running "$name" && [[ -f "$file" ]] && [[ "$(<"$file")" == "$config" ]]; then
    wait_until "$name" 60 component_ready "$port"
    return
  fi
  proc_stop "$name"
  printf '%s\n' "$config" >"$file"
  log "starting $name on 127.0.0.1:$port"
  proc_start "$name" "$K8S_BIN/kube-scheduler" \
    --config="$file" \
    --authentication-kubeconfig="$LOCAL_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig="$LOCAL_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$port" \
    --cert-dir="$LOCAL_DIR/$name-certs" \
    --v=1
  wait_until "$name" 60 component_ready "$port"
}

# The extenders of a KubeSchedulerConfiguration apply to all of its profiles, so the extender gets its
# own kube-scheduler: pods of default-scheduler never depend on it.
DEFAULT_CONFIG="$(scheduler_config default-scheduler)"
SMARTMIG_CONFIG="$(
  scheduler_config smartmig-scheduler
  cat <<EOF
extenders:
  - urlPrefix: $EXTENDER_URL
    filterVerb: filter
    prioritizeVerb: prioritize
    bindVerb: bind
    weight: 1
    enableHTTPS: false
    nodeCacheCapable: $EXTENDER_NODE_CACHE
    httpTimeout: $EXTENDER_TIMEOUT
    ignorable: false
    managedResources:
EOF
  for r in "${SMARTMIG_MIG_RESOURCES[@]}"; do
    printf '      - name: %s\n        ignoredByScheduler: false\n' "$r"
  done
)"
# ---- API Priority and Fairness for the extender's identity ----
# What charts/smartmig/templates/extender-flowschema.yaml does for the chart's ServiceAccount, done for
# the local smartmig-extender user: its bindings share kube-scheduler's priority level instead of
# queueing in global-default (issue 14).
"$K8S_BIN/kubectl" --kubeconfig="$LOCAL_DIR/kubeconfig" apply --server-side --force-conflicts \
  --field-manager=smartmig-local-up -f - >/dev/null <<EOF
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: smartmig-extender-local
spec:
  priorityLevelConfiguration:
    name: workload-high
  matchingPrecedence: 850
  distinguisherMethod:
    type: ByNamespace
  rules:
    - subjects:
        - kind: User
          user:
            name: smartmig-extender
      resourceRules:
        - verbs: ['*']
          apiGroups: ['*']
          resources: ['*']
          clusterScope: true
          namespaces: ['*']
EOF

start_scheduler kube-scheduler "$SCHEDULER_PORT" "$DEFAULT_CONFIG"
start_scheduler smartmig-scheduler "$SMARTMIG_SCHEDULER_PORT" "$SMARTMIG_CONFIG"

# ---- env and cluster.json for shells and tests ----
cat >"$LOCAL_DIR/env" <<EOF
# Generated by hack/local-up.sh: source it to use the local control plane.
export KUBECONFIG="$LOCAL_DIR/kubeconfig"
export SMARTMIG_KUBECONFIG="$LOCAL_DIR/kubeconfig"
export SMARTMIG_EXTENDER_KUBECONFIG="$LOCAL_DIR/extender.kubeconfig"
export SMARTMIG_OPERATOR_KUBECONFIG="$LOCAL_DIR/operator.kubeconfig"
export SMARTMIG_UNPRIVILEGED_KUBECONFIG="$LOCAL_DIR/unprivileged.kubeconfig"
export SMARTMIG_APISERVER_URL="$SERVER"
export PATH="$K8S_BIN:$HELM_BIN:$ETCD_BIN:\$PATH"
EOF
resources_json="$(printf '"%s",' "${SMARTMIG_MIG_RESOURCES[@]}")"
cat >"$LOCAL_DIR/cluster.json.tmp" <<EOF
{
  "server": "$SERVER",
  "kubernetesVersion": "$K8S_VERSION",
  "etcdVersion": "$ETCD_VERSION",
  "helmVersion": "$HELM_VERSION",
  "localDir": "$LOCAL_DIR",
  "kubeconfigs": {
    "admin": "$LOCAL_DIR/kubeconfig",
    "extender": "$LOCAL_DIR/extender.kubeconfig",
    "operator": "$LOCAL_DIR/operator.kubeconfig",
    "unprivileged": "$LOCAL_DIR/unprivileged.kubeconfig"
  },
  "bin": {
    "kubectl": "$K8S_BIN/kubectl",
    "helm": "$HELM_BIN/helm",
    "kubeApiserver": "$K8S_BIN/kube-apiserver",
    "kubeScheduler": "$K8S_BIN/kube-scheduler",
    "etcd": "$ETCD_BIN/etcd"
  },
  "extender": {
    "url": "$EXTENDER_URL",
    "nodeCacheCapable": $EXTENDER_NODE_CACHE,
    "managedResources": [${resources_json%,}]
  },
  "ports": {
    "etcd": $ETCD_PORT,
    "apiserver": $APISERVER_PORT,
    "controllerManager": $KCM_PORT,
    "scheduler": $SCHEDULER_PORT,
    "smartmigScheduler": $SMARTMIG_SCHEDULER_PORT
  }
}
EOF
mv "$LOCAL_DIR/cluster.json.tmp" "$LOCAL_DIR/cluster.json"

log "local control plane ready: $SERVER (source $LOCAL_DIR/env)"
