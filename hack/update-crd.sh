#!/usr/bin/env bash
# Regenerates the MigPartition CRD YAML and its TypeScript types from api/schema.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx api/generate.ts
echo "wrote crds/migpartitions.smartmig.io.yaml and api/types.ts"
