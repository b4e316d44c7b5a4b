// The few Kubernetes API helpers fake-gpu needs: clients, patch content types, events, error codes.
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  ResourceV1Api,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
} from '@kubernetes/client-node';
import { COMPONENT } from './labels.js';
import { rfc3339 } from './pod-status.js';

export interface Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  /** resource.k8s.io/v1: ResourceSlices and DeviceClasses in DRA mode, and the claims of pods. */
  readonly resource: ResourceV1Api;
}

export function kubeClients(kc: KubeConfig): Kube {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    resource: kc.makeApiClient(ResourceV1Api),
  };
}

// client-node 1.x sends patches as JSON-Patch unless a middleware sets the content type.
/** Labels, annotations, capacity: plain maps, where null removes a key. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Pod and node status: conditions merge by type, as kubelet patches them. */
export const STRATEGIC_PATCH = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The HTTP status of a client-node ApiException (undefined for other errors). */
export function statusCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

/** Resolves to undefined when the call failed with 404. */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

/** A short, single-line description of an API error for logs and annotations. */
export function errorText(err: unknown): string {
  const code = statusCode(err);
  const body = typeof err === 'object' && err !== null && 'body' in err ? String(err.body) : '';
  const message = (() => {
    try {
      return (JSON.parse(body) as { message?: string }).message;
    } catch {
      return undefined;
    }
  })();
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return (code !== undefined ? `HTTP ${code}: ${text}` : text).split('\n')[0] ?? '';
}

export interface EventTarget {
  readonly kind: 'Node' | 'Pod';
  readonly name: string;
  /** Pods only; node events go to `default` as kubelet's do. */
  readonly namespace?: string;
  readonly uid?: string;
}

export function makeEvent(
  target: EventTarget,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  now: Date,
): CoreV1Event {
  const namespace = target.namespace ?? 'default';
  const at = rfc3339(now);
  return {
    metadata: { generateName: `${target.name}.`, namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: target.kind,
      name: target.name,
      namespace: target.namespace,
      uid: target.uid,
    },
    type,
    reason,
    message: message.slice(0, 1024),
    source: { component: COMPONENT, host: target.kind === 'Node' ? target.name : undefined },
    reportingComponent: COMPONENT,
    reportingInstance: target.kind === 'Node' ? target.name : COMPONENT,
    firstTimestamp: at as unknown as Date,
    lastTimestamp: at as unknown as Date,
    count: 1,
  };
}
