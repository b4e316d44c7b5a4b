#!/usr/bin/env bash
# Downloads the two files of Alibaba's GPU cluster trace v2023 ("openb") that `smartmig simulate --workload`
# and `smartmig bounds --workload` read, pinned to one commit of alibaba/clusterdata and checked by SHA-256.
#
#   hack/fetch-openb.sh [DIR]        # default DIR: data/openb (git-ignored)
#
# The trace is not shipped with smartmig: its publisher allows use for research and study and grants no
# licence to redistribute it (docs/workloads.md). Results on it should cite Weng et al., "Beware of
# Fragmentation", USENIX ATC 2023. OPENB_BASE_URL overrides the source (a mirror, or file:// for tests).
set -euo pipefail

readonly COMMIT=50a91c7c74abe3b658188dc78ac1dd302970d40c
BASE_URL="${OPENB_BASE_URL:-https://raw.githubusercontent.com/alibaba/clusterdata/$COMMIT/cluster-trace-gpu-v2023/csv}"
declare -A SHA256=(
  [openb_pod_list_default.csv]=1ee7ed79c27a3b0861cda8ddba86a004c6aba904caafa329a76ae93ca63834a8
  [openb_node_list_gpu_node.csv]=2beca64b4d3dfa342036a34b56a495c6cef9225db836c81f541282cb1df320b5
)

case "${1:-}" in
  -h | --help)
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  -*)
    echo "fetch-openb: unknown flag $1 (usage: hack/fetch-openb.sh [DIR])" >&2
    exit 2
    ;;
esac
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/data/openb}"
mkdir -p "$dir"

# Each file lands under a temporary name and is renamed only once its checksum matches, so an interrupted
# or tampered download never leaves a file that looks complete.
for file in "${!SHA256[@]}"; do
  target="$dir/$file"
  if [[ -f "$target" ]] && echo "${SHA256[$file]}  $target" | sha256sum --check --status; then
    echo "$target: present, checksum matches"
    continue
  fi
  partial="$target.partial"
  trap 'rm -f "$partial"' EXIT
  curl --fail --silent --show-error --location --retry 3 --output "$partial" "$BASE_URL/$file"
  actual=$(sha256sum "$partial" | cut -d' ' -f1)
  if [[ "$actual" != "${SHA256[$file]}" ]]; then
    rm -f "$partial"
    echo "fetch-openb: $file from $BASE_URL has SHA-256 $actual, expected ${SHA256[$file]}; nothing written" >&2
    exit 1
  fi
  mv "$partial" "$target"
  trap - EXIT
  echo "$target: downloaded, checksum matches"
done
