// The MigPartition CRD in the local control plane, for tests that create MigPartitions.
import { join } from 'node:path';
import { REPO_ROOT, kubectl } from './cluster.js';

/** Applies the MigPartition CRD (idempotent) and waits until the apiserver serves it. */
export async function ensureCrd(): Promise<void> {
  await kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(REPO_ROOT, 'crds/migpartitions.smartmig.io.yaml'),
  ]);
  await kubectl(['wait', '--for=condition=Established', 'crd/migpartitions.smartmig.io', '--timeout=60s']);
}
