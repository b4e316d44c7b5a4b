#!/usr/bin/env bash
# Copies the CRDs of crds/ into the Helm chart (charts/smartmig/crds/), which Helm installs before the
# templates. A copy rather than a symlink: chart archives, OCI pushes and GitOps tools that read the chart
# directory do not all follow links that leave it. hack/verify-chart-crds.sh checks the copy.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=charts/smartmig/crds
mkdir -p "$dest"
# Remove copies whose source is gone, then copy every CRD.
for f in "$dest"/*.yaml; do
  [[ -e "$f" ]] || continue
  [[ -e "crds/$(basename "$f")" ]] || rm -f "$f"
done
cp crds/*.yaml "$dest"/
echo "copied $(find crds -maxdepth 1 -name '*.yaml' | wc -l) CRD file(s) into $dest"
