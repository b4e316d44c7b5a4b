#!/usr/bin/env bash
# Fails when the checked-in CRD YAML or TypeScript types differ from what api/schema.ts generates.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx api/generate.ts --check
