// Kubernetes client configuration shared by every adapter (extender, operator, fake-gpu).
import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig that cannot be used: the caller's to fix, so the CLI prints it as one line. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** Loads a kubeconfig file, or else the in-cluster service account, $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError(`cannot load ${file ?? 'the default kubeconfig'}: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new KubeConfigError(`${file ?? 'the default kubeconfig'} names no current cluster (pass --kubeconfig FILE)`);
  }
  return kc;
}
