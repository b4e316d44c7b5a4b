# shellcheck shell=bash
# Small logging helpers shared by the hack/ scripts.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
