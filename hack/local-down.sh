#!/usr/bin/env bash
# Stops what hack/local-up.sh started (by its pid files, nothing else).
#   --clean   also deletes the cluster's data (etcd), PKI, kubeconfigs and logs: the next local-up
#             starts an empty cluster with new certificates.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=hack/lib/log.sh
source "$HACK_DIR/lib/log.sh"
# shellcheck source=hack/lib/proc.sh
source "$HACK_DIR/lib/proc.sh"

CLEAN=false
for arg in "$@"; do
  case "$arg" in
    --clean) CLEAN=true ;;
    -h | --help)
      sed -n '2,5p' "$0"
      exit 0
      ;;
    *) die "unknown argument: $arg" ;;
  esac
done

LOCAL_DIR="${SMARTMIG_LOCAL_DIR:-$ROOT/.local}"
if [[ ! -d "$LOCAL_DIR" ]]; then
  log "nothing to stop: $LOCAL_DIR does not exist"
  exit 0
fi
LOCAL_DIR="$(cd "$LOCAL_DIR" && pwd)"
PID_DIR="$LOCAL_DIR/pids"
LOG_DIR="$LOCAL_DIR/logs"

exec 9>"$LOCAL_DIR/.lock"
flock -w 600 9 || die "another hack/local-up.sh or local-down.sh holds $LOCAL_DIR/.lock"

# Clients first, etcd last.
proc_stop smartmig-scheduler kube-scheduler kube-controller-manager
proc_stop kube-apiserver
proc_stop etcd

if [[ "$CLEAN" == true ]]; then
  # Only what local-up writes; other files in .local (e.g. test reports) stay.
  rm -rf "$LOCAL_DIR"/{etcd,pki,pids,logs,apiserver-certs,controller-manager-certs,kube-scheduler-certs,smartmig-scheduler-certs}
  rm -f "$LOCAL_DIR"/{env,cluster.json,ports.env,kube-scheduler.yaml,smartmig-scheduler.yaml} "$LOCAL_DIR"/*.kubeconfig "$LOCAL_DIR/kubeconfig"
  log "removed the local cluster's state from $LOCAL_DIR"
fi
