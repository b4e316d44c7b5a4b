// The operator's one typed configuration: defaults beside the type, flags override, validated before start.
import { MODELS_DIR } from '../model-store/shipped.js';
import { hostname } from 'node:os';

export interface OperatorConfig {
  /** Path of a kubeconfig; unset: $KUBECONFIG, then in-cluster, then ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  /** Port of /metrics, /healthz and /readyz; 0 picks a free one; -1 serves none. */
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  /** This replica's name in the lease. */
  readonly identity: string;
  /** The mig-parted ConfigMap that mig-manager reads (the GPU operator's migManager.config.name). */
  readonly migConfigMap: { readonly namespace: string; readonly name: string };
  /** A full round at least this often, even without events (it also integrates energy). */
  readonly resyncMs: number;
  /** How long a new config stays in the ConfigMap before a node is pointed at it (kubelet volume sync). */
  readonly configSettleMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly statusNodeLimit: number;
  /** Debounce of event-triggered rounds. */
  readonly debounceMs: number;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /**
   * Where Dynamic policies' models live, searched in order, one directory per model name (the image ships
   * policy/models).
   */
  readonly modelsDirs: readonly string[];
}

export const DEFAULT_CONFIG: OperatorConfig = {
  kubeconfig: undefined,
  metricsPort: 8080,
  metricsHost: '0.0.0.0',
  leaderElect: false,
  leaseNamespace: process.env.POD_NAMESPACE ?? 'smartmig-system',
  leaseName: 'smartmig-operator',
  identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
  migConfigMap: { namespace: 'gpu-operator', name: 'smartmig-mig-parted-config' },
  resyncMs: 15_000,
  configSettleMs: 0,
  backoffBaseMs: 30_000,
  backoffMaxMs: 600_000,
  statusNodeLimit: 200,
  debounceMs: 100,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  modelsDirs: [MODELS_DIR],
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `gpu-operator/custom-mig-parted-config` → namespace and name. */
export function parseConfigMapRef(text: string): { namespace: string; name: string } {
  const [namespace, name, ...rest] = text.split('/');
  if (!namespace || !name || rest.length > 0 || !DNS1123.test(namespace) || !DNS1123.test(name)) {
    throw new ConfigError(`--mig-config-map: expected NAMESPACE/NAME, got "${text}"`);
  }
  return { namespace, name };
}

/** Fills defaults and checks the whole configuration; throws ConfigError with the offending setting. */
export function resolveConfig(partial: Partial<OperatorConfig>): OperatorConfig {
  const c: OperatorConfig = { ...DEFAULT_CONFIG, ...partial };
  const positive: (keyof OperatorConfig)[] = [
    'resyncMs',
    'backoffBaseMs',
    'backoffMaxMs',
    'statusNodeLimit',
    'leaseDurationMs',
    'renewDeadlineMs',
    'retryPeriodMs',
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${k} must be a positive number`);
  }
  if (!Number.isInteger(c.metricsPort) || c.metricsPort < -1 || c.metricsPort > 65535) {
    throw new ConfigError(`metrics port must be -1 (off), 0 (any) or 1..65535`);
  }
  if (!(c.renewDeadlineMs < c.leaseDurationMs && c.retryPeriodMs < c.renewDeadlineMs)) {
    throw new ConfigError('leader election needs retry period < renew deadline < lease duration');
  }
  if (c.leaderElect && !DNS1123.test(c.leaseNamespace))
    throw new ConfigError(`lease namespace "${c.leaseNamespace}" is not a valid name`);
  if (c.configSettleMs < 0 || c.debounceMs < 0) throw new ConfigError('durations must not be negative');
  return c;
}
