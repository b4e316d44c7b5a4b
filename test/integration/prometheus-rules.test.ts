// The chart's alerts (charts/smartmig/templates/prometheusrule.yaml) under `promtool test rules`: the rules are
// rendered with the real helm, and each alert gets series that must fire it and series that must not. It sits
// with the cluster tests because helm comes from the local control plane's build (docs/control-plane.md).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { renderChartTemplate } from '../support/chart-rbac.js';

const NS = 'smartmig-system';
const OTHER_NS = 'elsewhere';

interface Rule {
  readonly alert: string;
  readonly expr: string;
}

interface Alert {
  readonly exp_labels: Record<string, string>;
  readonly exp_annotations: Record<string, string>;
}

/** One promtool test case: input series and what each named alert must be at one time. */
interface Case {
  readonly name: string;
  readonly alertname: string;
  readonly series: Record<string, string>;
  readonly evalTime: string;
  readonly expect: readonly Alert[];
}

/** `promtool`: `$PROMTOOL`, else on PATH (Debian's prometheus package; .ci/run installs it). */
function promtool(args: readonly string[]): Promise<{ code: number; out: string }> {
  const binary = process.env['PROMTOOL'] ?? 'promtool';
  return new Promise((resolvePromise) => {
    execFile(binary, [...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      const missing =
        code === 127 ? `${error?.message}: install promtool (apt-get install prometheus) or set $PROMTOOL` : '';
      resolvePromise({ code, out: `${stdout}${stderr}${missing}` });
    });
  });
}

const warning = (labels: Record<string, string>, annotations: Record<string, string>): Alert => ({
  exp_labels: { severity: 'warning', ...labels },
  exp_annotations: annotations,
});

const late = (description: string): Alert =>
  warning({}, { summary: 'Many smartmig jobs finish after their deadline.', description });
const failedRepartitions = (description: string): Alert =>
  warning({}, { summary: 'mig-manager failed to apply MIG layouts that smartmig asked for.', description });
const timedOut = (description: string): Alert =>
  warning(
    {},
    { summary: "mig-manager left nodes pending or rebooting past the MigPartition's applyTimeout.", description },
  );
const extenderErrors = (share: string): Alert =>
  warning(
    {},
    {
      summary: 'The smartmig scheduler extender answers with errors.',
      description: `${share} of the extender's answers were server errors or failed binds over the last 5 minutes.`,
    },
  );
const restarts = (job: string, resource: string, times: string): Alert =>
  warning(
    { job, resource },
    {
      summary: 'A smartmig watch of the Kubernetes API keeps failing; its cache may be stale.',
      description:
        `The ${resource} watch of ${job} started over ${times} times after errors in the last 15 minutes; ` +
        'see its logs (list/watch failed) and the apiserver.',
    },
  );
const noLeader = (labels: Record<string, string>): Alert =>
  warning(labels, {
    summary: 'No smartmig operator replica holds the leader lease; MIG layouts are not being managed.',
  });

const requests = (ns: string, code: string): string =>
  `smartmig_extender_request_duration_seconds_count{namespace="${ns}", verb="bind", code="${code}"}`;
const bindErrors = (ns: string): string =>
  `smartmig_extender_decisions_total{namespace="${ns}", verb="bind", outcome="error"}`;
const completions = (ns: string, outcome: string): string =>
  `smartmig_job_completions_total{namespace="${ns}", outcome="${outcome}"}`;

// Series are sampled every minute: '0+60x60' is a counter growing by 1 per second for an hour.
const CASES: readonly Case[] = [
  {
    name: '30 % late jobs for 40 minutes',
    alertname: 'SmartmigHighTardinessRate',
    series: { [completions(NS, 'late')]: '0+3x60', [completions(NS, 'on_time')]: '0+7x60' },
    evalTime: '45m',
    expect: [late('30% of the jobs with smartmig.io/deadline finished late over the last 30m (threshold 0.2).')],
  },
  {
    name: '10 % late jobs',
    alertname: 'SmartmigHighTardinessRate',
    series: { [completions(NS, 'late')]: '0+1x60', [completions(NS, 'on_time')]: '0+9x60' },
    evalTime: '45m',
    expect: [],
  },
  {
    name: 'late jobs of another namespace',
    alertname: 'SmartmigHighTardinessRate',
    series: { [completions(OTHER_NS, 'late')]: '0+9x60', [completions(NS, 'on_time')]: '0+9x60' },
    evalTime: '45m',
    expect: [],
  },
  {
    name: 'one failed repartition',
    alertname: 'SmartmigRepartitionFailures',
    series: {
      [`smartmig_repartitions_total{namespace="${NS}", result="failed"}`]: '0x10 1x30',
      [`smartmig_repartitions_total{namespace="${NS}", result="success"}`]: '0+1x40',
    },
    evalTime: '20m',
    expect: [
      failedRepartitions(
        '1 node reconfigurations ended with nvidia.com/mig.config.state=failed over the last 30m; ' +
          'see the MigPartition status and the mig-manager logs.',
      ),
    ],
  },
  {
    name: 'successful repartitions only',
    alertname: 'SmartmigRepartitionFailures',
    series: {
      [`smartmig_repartitions_total{namespace="${NS}", result="failed"}`]: '0x40',
      [`smartmig_repartitions_total{namespace="${NS}", result="success"}`]: '0+1x40',
    },
    evalTime: '20m',
    expect: [],
  },
  {
    name: 'a node stuck in pending past applyTimeout',
    alertname: 'SmartmigReconfigureTimedOut',
    series: {
      [`smartmig_repartitions_total{namespace="${NS}", result="timeout"}`]: '0x10 1x30',
      [`smartmig_repartitions_total{namespace="${NS}", result="success"}`]: '0+1x40',
    },
    evalTime: '20m',
    expect: [
      timedOut(
        '1 node reconfigurations stayed pending or rebooting past spec.limits.applyTimeout over the last 30m; ' +
          'smartmig stopped waiting for them (the MigPartition status names the nodes). Check mig-manager on those nodes.',
      ),
    ],
  },
  {
    name: 'no timed-out reconfiguration',
    alertname: 'SmartmigReconfigureTimedOut',
    series: {
      [`smartmig_repartitions_total{namespace="${NS}", result="timeout"}`]: '0x40',
      [`smartmig_repartitions_total{namespace="${NS}", result="failed"}`]: '0+1x40',
    },
    evalTime: '20m',
    expect: [],
  },
  {
    // Every bind fails but every answer is HTTP 200: no 5xx series exists. This is the case a bare sum of the
    // 5xx rate missed.
    name: 'every bind fails, no 5xx series',
    alertname: 'SmartmigExtenderErrors',
    series: { [requests(NS, '200')]: '0+60x30', [bindErrors(NS)]: '0+60x30' },
    evalTime: '20m',
    expect: [extenderErrors('100%')],
  },
  {
    name: 'server errors, no failed-bind series',
    alertname: 'SmartmigExtenderErrors',
    series: { [requests(NS, '200')]: '0+50x30', [requests(NS, '500')]: '0+10x30' },
    evalTime: '20m',
    expect: [extenderErrors('16.67%')],
  },
  {
    name: '1 % failed binds',
    alertname: 'SmartmigExtenderErrors',
    series: { [requests(NS, '200')]: '0+100x30', [bindErrors(NS)]: '0+1x30', [requests(NS, '500')]: '0x30' },
    evalTime: '20m',
    expect: [],
  },
  {
    name: 'failed binds for 5 minutes only (shorter than `for`)',
    alertname: 'SmartmigExtenderErrors',
    series: { [requests(NS, '200')]: '0+60x30', [bindErrors(NS)]: '0x14 0+60x15' },
    evalTime: '20m',
    expect: [],
  },
  {
    name: "the operator's pod watch fails every minute",
    alertname: 'SmartmigWatchRestarts',
    series: {
      [`smartmig_operator_watch_restarts_total{namespace="${NS}", job="smartmig-operator", resource="pods"}`]: '0+1x40',
      [`smartmig_operator_watch_restarts_total{namespace="${NS}", job="smartmig-operator", resource="nodes"}`]: '0x40',
    },
    evalTime: '30m',
    expect: [restarts('smartmig-operator', 'pods', '15')],
  },
  {
    name: "the extender's node informer fails every minute",
    alertname: 'SmartmigWatchRestarts',
    series: {
      [`smartmig_extender_informer_restarts_total{namespace="${NS}", job="smartmig-extender", resource="nodes"}`]:
        '0+1x40',
    },
    evalTime: '30m',
    expect: [restarts('smartmig-extender', 'nodes', '15')],
  },
  {
    name: 'one watch failure (an apiserver restart)',
    alertname: 'SmartmigWatchRestarts',
    series: {
      [`smartmig_operator_watch_restarts_total{namespace="${NS}", job="smartmig-operator", resource="pods"}`]:
        '0x10 1x30',
      [`smartmig_extender_informer_restarts_total{namespace="${NS}", job="smartmig-extender", resource="pods"}`]:
        '0x10 1x30',
    },
    evalTime: '20m',
    expect: [],
  },
  {
    name: 'no operator metrics at all',
    alertname: 'SmartmigOperatorNoLeader',
    series: { [`up{namespace="${NS}", job="smartmig-operator"}`]: '0x20' },
    evalTime: '15m',
    expect: [noLeader({ namespace: NS })],
  },
  {
    name: 'two replicas, neither leads',
    alertname: 'SmartmigOperatorNoLeader',
    series: {
      [`smartmig_operator_leader{namespace="${NS}", pod="a"}`]: '0x20',
      [`smartmig_operator_leader{namespace="${NS}", pod="b"}`]: '0x20',
    },
    evalTime: '15m',
    expect: [noLeader({})],
  },
  {
    name: 'one replica leads',
    alertname: 'SmartmigOperatorNoLeader',
    series: {
      [`smartmig_operator_leader{namespace="${NS}", pod="a"}`]: '1x20',
      [`smartmig_operator_leader{namespace="${NS}", pod="b"}`]: '0x20',
    },
    evalTime: '15m',
    expect: [],
  },
];

describe('alerts of charts/smartmig under promtool test rules', () => {
  let work: string;
  let rules: Rule[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'smartmig-promtool-'));
    const [rule] = await renderChartTemplate({
      template: 'prometheusrule.yaml',
      user: 'unused',
      namespace: NS,
      set: ['monitoring.prometheusRule.enabled=true'],
    });
    const spec = (rule as unknown as { spec: { groups: { name: string; rules: Rule[] }[] } }).spec;
    rules = spec.groups.flatMap((g) => g.rules);
    // A PrometheusRule's spec is a Prometheus rule file.
    writeFileSync(join(work, 'rules.yaml'), stringify(spec));
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('passes promtool check rules', async () => {
    const r = await promtool(['check', 'rules', join(work, 'rules.yaml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('tests every alert of the chart, each both firing and quiet', () => {
    const alerts = rules.map((r) => r.alert).sort();
    expect(alerts).toContain('SmartmigWatchRestarts');
    for (const alert of alerts) {
      const cases = CASES.filter((c) => c.alertname === alert);
      expect(
        cases.some((c) => c.expect.length > 0),
        `${alert} has a case where it fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.expect.length === 0),
        `${alert} has a case where it stays quiet`,
      ).toBe(true);
    }
    expect([...new Set(CASES.map((c) => c.alertname))].sort()).toEqual(alerts);
  });

  it.each(CASES.map((c) => [c.alertname, c.name, c] as const))('%s: %s', async (_alert, _name, c) => {
    const file = join(work, `test-${CASES.indexOf(c)}.yaml`);
    const test = {
      rule_files: [join(work, 'rules.yaml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
          alert_rule_test: [{ eval_time: c.evalTime, alertname: c.alertname, exp_alerts: c.expect }],
        },
      ],
    };
    writeFileSync(file, stringify(test));
    const r = await promtool(['test', 'rules', file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });
});
