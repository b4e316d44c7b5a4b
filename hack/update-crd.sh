#!/usr/bin/env bash
# Regenerates the MigPartition CRD YAML and its TypeScript types from operator/api/schema.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx operator/api/generate.ts
echo "wrote crds/migpartitions.smartmig.io.yaml and operator/api/types.ts"
