#!/usr/bin/env bash
# Fails when charts/smartmig/crds/ differs from crds/ (fix: hack/update-chart-crds.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! diff -r crds charts/smartmig/crds >/dev/null; then
  diff -r crds charts/smartmig/crds >&2 || true
  echo "charts/smartmig/crds is out of date: run hack/update-chart-crds.sh" >&2
  exit 1
fi
echo "charts/smartmig/crds matches crds/"
