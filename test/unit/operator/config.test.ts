import { describe, expect, it } from 'vitest';
import { FLAGS, operatorConfigFromFlags } from '../../../cli/commands/operator.js';
import { parseFlags } from '../../../cli/args.js';
import { main } from '../../../cli/main.js';
import { UsageError } from '../../../cli/usage-error.js';
import { staleOutputs } from '../../../api/generate.js';
import { migPartitionSchema } from '../../../api/schema.js';
import { DEFAULTS } from '../../../operator/policy.js';
import { ConfigError, DEFAULT_CONFIG, parseConfigMapRef, resolveConfig } from '../../../operator/config.js';

const fromFlags = (argv: string[]) => operatorConfigFromFlags(parseFlags(argv, FLAGS));

describe('operator configuration', () => {
  it('has checked defaults', () => {
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.migConfigMap).toEqual({ namespace: 'gpu-operator', name: 'smartmig-mig-parted-config' });
  });

  it('reads the flags the issue names', () => {
    const c = fromFlags([
      '--kubeconfig',
      'k',
      '--metrics-port',
      '9090',
      '--leader-elect',
      '--mig-config-map',
      'ops/mig',
      '--config-settle',
      '60',
    ]);
    expect(c).toMatchObject({
      kubeconfig: 'k',
      metricsPort: 9090,
      leaderElect: true,
      migConfigMap: { namespace: 'ops', name: 'mig' },
      configSettleMs: 60_000,
    });
  });

  const bad: [string[], RegExp][] = [
    [['--mig-config-map', 'just-a-name'], /--mig-config-map: expected NAMESPACE\/NAME/],
    [['--mig-config-map', 'Ops/mig'], /NAMESPACE\/NAME/],
    [['--metrics-port', 'http'], /--metrics-port: expected an integer/],
    [['--resync', '0'], /--resync: expected a number ≥ 1/],
    [['--leader-elect', '--lease-namespace', 'Bad_NS'], /lease namespace/],
  ];
  it.each(bad)('rejects %j', (argv, message) => {
    expect(() => fromFlags(argv)).toThrow(UsageError);
    expect(() => fromFlags(argv)).toThrow(message);
  });

  it('checks leader-election timings', () => {
    expect(() => resolveConfig({ renewDeadlineMs: 20_000 })).toThrow(ConfigError);
    expect(() => parseConfigMapRef('a/b/c')).toThrow(ConfigError);
  });

  it('is registered as a subcommand with help, and bad flags exit 2', async () => {
    const log = console.log;
    const err = console.error;
    const out: string[] = [];
    console.log = (s: string) => out.push(s);
    console.error = (s: string) => out.push(s);
    try {
      expect(await main(['operator', '--help'])).toBe(0);
      expect(out.join('\n')).toContain('--mig-config-map NS/NAME');
      expect(await main(['operator', '--mig-config-map', 'nope'])).toBe(2);
      expect(out.at(-1)).toMatch(/^smartmig operator: --mig-config-map/);
    } finally {
      console.log = log;
      console.error = err;
    }
  });
});

describe('generated MigPartition API', () => {
  it('crds/ and api/types.ts match api/schema.ts (run hack/update-crd.sh)', async () => {
    expect(await staleOutputs()).toEqual([]);
  });

  // Guards against "completing" the defaults: a defaulted spec.dynamic (or spec.static) would be added to
  // specs of the other mode, and the CEL rules refuse a spec that has the other mode's field.
  it('gives spec.static and spec.dynamic no default, so defaulting never breaks the mode rules', () => {
    const spec = migPartitionSchema.properties?.spec;
    const rules = (spec?.['x-kubernetes-validations'] ?? []).map((v) => v.rule);
    expect(rules).toContain("self.mode != 'Static' || !has(self.dynamic)");
    expect(rules).toContain("self.mode != 'Dynamic' || !has(self.static)");
    expect(spec?.properties?.dynamic?.default).toBeUndefined();
    expect(spec?.properties?.static?.default).toBeUndefined();
    // What a Dynamic spec without `dynamic` gets instead (operator/policy.ts), equal to the CRD's default.
    expect(spec?.properties?.dynamic?.properties?.controller?.default).toBe(DEFAULTS.controller);
  });
});
