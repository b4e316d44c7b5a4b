// What the long-running subcommands (extender, operator, fake-gpu) share: a kubeconfig flag and a clean
// stop on SIGINT or SIGTERM.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeConfigError, loadKubeConfig } from '../kube/config.js';
import { UsageError } from './usage-error.js';

/**
 * Where the long-running commands find cluster credentials when --kubeconfig is not given: the order of
 * client-node's loadFromDefault (kube/config.ts), said the same way in every help text and in docs/install.md.
 */
export const KUBECONFIG_ORDER = "$KUBECONFIG, else ~/.kube/config, else in-cluster (the pod's service account)";

export function kubeConfigFlag(file: string | undefined): KubeConfig {
  try {
    return loadKubeConfig(file);
  } catch (err) {
    if (err instanceof KubeConfigError) throw new UsageError(`--kubeconfig: ${err.message}`);
    throw err;
  }
}

/** Resolves with the first SIGINT or SIGTERM, then stops listening for them. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
