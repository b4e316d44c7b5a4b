#!/usr/bin/env bash
# Stops the emulated GPU nodes that hack/kind/up.sh started and deletes its kind cluster.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=hack/lib/log.sh
source "$ROOT/hack/lib/log.sh"
CLUSTER="${KIND_CLUSTER_NAME:-smartmig}"
STATE="$ROOT/.local/kind"

if [[ -s "$STATE/fake-gpu.pid" ]]; then
  pid="$(<"$STATE/fake-gpu.pid")"
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'fake-gpu'; then
    kill -TERM "$pid"
    log "stopped smartmig fake-gpu (pid $pid)"
  fi
  rm -f "$STATE/fake-gpu.pid"
fi
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind delete cluster --name "$CLUSTER"
fi
