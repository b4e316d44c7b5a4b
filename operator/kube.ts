// The operator's writes to the apiserver, each one call with the content type it needs. Reads come from the
// informers (operator/informers.ts); nothing here caches.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type V1Taint,
} from '@kubernetes/client-node';
import type { MigPartitionStatus } from '../api/types.js';
import { GROUP, PLURAL, VERSION } from '../api/schema.js';
import { REPARTITION_TAINT } from '../api/labels.js';
import type { NodePatch, PlanEvent } from './plan/node-step.js';
import { RULE_MANAGED_LABEL, RULE_MANAGER, type DeviceTaintRule } from '../dra/steering.js';

export const CONFIG_KEY = 'config.yaml';

export interface Clients {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
}

export function makeClients(kc: KubeConfig): Clients {
  return {
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a failed call (0 when it never got an answer). */
export function statusOf(err: unknown): number {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.code;
  return typeof code === 'number' ? code : 0;
}

/** A short, single-line description of a failed call for logs and conditions. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === 'string' ? safeMessage(body) : body?.message;
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * Applies a node patch as a JSON merge patch. Taint changes rewrite the whole taint list, so they carry the
 * resourceVersion the plan saw: a concurrent change to the node fails the patch (409) and the next round redoes it.
 */
export async function patchNode(
  clients: Clients,
  patch: NodePatch,
  taints: readonly V1Taint[],
): Promise<string | undefined> {
  const metadata: Record<string, unknown> = {};
  if (Object.keys(patch.labels).length > 0) metadata.labels = patch.labels;
  if (Object.keys(patch.annotations).length > 0) metadata.annotations = patch.annotations;
  const body: Record<string, unknown> = { metadata };
  if (patch.taint) {
    const others = taints.filter((t) => t.key !== REPARTITION_TAINT.key);
    body.spec = { taints: patch.taint === 'add' ? [...others, { ...REPARTITION_TAINT }] : others };
    if (patch.resourceVersion) metadata.resourceVersion = patch.resourceVersion;
  }
  const out = await clients.core.patchNode({ name: patch.node, body }, MERGE);
  return out.metadata?.resourceVersion;
}

/**
 * Read-modify-write of the mig-parted ConfigMap's `config.yaml` with optimistic concurrency; creates the
 * ConfigMap when it is missing. `edit` returns the new text, or undefined to leave it as it is.
 */
export async function updateConfigMap(
  clients: Clients,
  namespace: string,
  name: string,
  edit: (text: string | undefined) => string | undefined,
  attempts = 5,
): Promise<string | undefined> {
  for (let i = 0; ; i++) {
    let cm: V1ConfigMap | undefined;
    try {
      cm = await clients.core.readNamespacedConfigMap({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const next = edit(cm?.data?.[CONFIG_KEY]);
    if (next === undefined) return undefined;
    try {
      const out = cm
        ? await clients.core.replaceNamespacedConfigMap({
            name,
            namespace,
            body: { ...cm, data: { ...(cm.data ?? {}), [CONFIG_KEY]: next } },
          })
        : await clients.core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name, namespace }, data: { [CONFIG_KEY]: next } },
          });
      return out.metadata?.resourceVersion ?? '';
    } catch (err) {
      const code = statusOf(err);
      if ((code !== 409 && code !== 404) || i + 1 >= attempts) throw err;
    }
  }
}

/**
 * Merge-patches a MigPartition's status; top-level fields that the new status drops are removed explicitly
 * (a merge patch keeps what it does not mention).
 */
export async function patchStatus(
  clients: Clients,
  name: string,
  status: MigPartitionStatus,
  previous: MigPartitionStatus | undefined,
): Promise<string | undefined> {
  const body: Record<string, unknown> = { ...status };
  for (const key of Object.keys(previous ?? {})) if (!(key in body)) body[key] = null;
  const out = (await clients.custom.patchClusterCustomObjectStatus(
    { group: GROUP, version: VERSION, plural: PLURAL, name, body: { status: body } },
    MERGE,
  )) as { metadata?: { resourceVersion?: string } };
  return out.metadata?.resourceVersion;
}

export interface EventTarget {
  readonly name: string;
  readonly uid: string | undefined;
}

/** The apiserver keeps events about cluster-scoped objects (MigPartitions) in this namespace only. */
export const EVENTS_NAMESPACE = 'default';

/** Records an event on a MigPartition. */
export async function recordEvent(
  clients: Clients,
  target: EventTarget,
  e: PlanEvent,
  reporter: { component: string; instance: string },
  now: Date,
): Promise<void> {
  const namespace = EVENTS_NAMESPACE;
  await clients.core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { generateName: `${target.name}.`, namespace },
      involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MigPartition', name: target.name, uid: target.uid },
      type: e.type,
      reason: e.reason,
      message: e.message.slice(0, 1024),
      source: { component: reporter.component },
      reportingComponent: reporter.component,
      reportingInstance: reporter.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}

/** resource.k8s.io/v1 DeviceTaintRules (Kubernetes 1.37); the typed client knows only v1alpha3, hence custom objects. */
const RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' } as const;

/** The DeviceTaintRules smartmig wrote (label `app.kubernetes.io/managed-by=smartmig`), in one list call. */
export async function listSteeringRules(clients: Clients): Promise<DeviceTaintRule[]> {
  const out = (await clients.custom.listClusterCustomObject({
    ...RULES,
    labelSelector: `${RULE_MANAGED_LABEL}=${RULE_MANAGER}`,
  })) as { items?: DeviceTaintRule[] };
  return out.items ?? [];
}

export async function createSteeringRule(clients: Clients, rule: DeviceTaintRule): Promise<void> {
  await clients.custom.createClusterCustomObject({ ...RULES, body: rule });
}

/** Deletes a rule; one already gone counts as deleted. */
export async function deleteSteeringRule(clients: Clients, name: string): Promise<void> {
  try {
    await clients.custom.deleteClusterCustomObject({ ...RULES, name });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}
