// Binding a pod to the node kube-scheduler chose, through the pods/binding subresource. The binding
// carries the pod's UID as a precondition (a pod deleted and re-created under the same name is not
// bound by mistake) and the placement annotation, which the API server copies onto the pod in the same
// write. A retry after a lost reply finds the pod already on that node and counts as success.
import { ApiException, type CoreV1Api, type V1Binding } from '@kubernetes/client-node';
import type { ExtenderBindingArgs, Pod } from './schemas.js';
import { retryAfterHeaderMs } from '../kube/retry-after.js';

export type BindOutcomeCode = 'bound' | 'already_bound' | 'conflict' | 'not_found' | 'error';

export interface BindOutcome {
  readonly outcome: BindOutcomeCode;
  /** Empty on success; otherwise what kube-scheduler reports in the pod's events. */
  readonly message: string;
}

export interface Binder {
  bind(args: ExtenderBindingArgs, annotations: Readonly<Record<string, string>>): Promise<BindOutcome>;
  /** The pod as the API server has it now; undefined when it does not exist or cannot be read. */
  readPod(namespace: string, name: string): Promise<Pod | undefined>;
}

const ok = (outcome: BindOutcomeCode): BindOutcome => ({ outcome, message: '' });

export interface BinderOptions {
  /**
   * How long a bind may keep retrying a 429 (API Priority and Fairness refused it), in ms. Below
   * kube-scheduler's extender httpTimeout (10 s), so the answer arrives before the scheduler gives up
   * and sends the bind again. Default 7000.
   */
  readonly retryBudgetMs?: number;
  /** Waits; a test may pass a fake. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class KubeBinder implements Binder {
  private readonly budgetMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly core: CoreV1Api,
    options: BinderOptions = {},
  ) {
    this.budgetMs = options.retryBudgetMs ?? 7000;
    this.sleep = options.sleep ?? sleepMs;
  }

  async bind(args: ExtenderBindingArgs, annotations: Readonly<Record<string, string>>): Promise<BindOutcome> {
    const { PodName: name, PodNamespace: namespace, Node: node } = args;
    const body = bindingFor(args, annotations);
    const deadline = Date.now() + this.budgetMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.core.createNamespacedPodBinding({ name, namespace, body });
        return ok('bound');
      } catch (err) {
        const code = err instanceof ApiException ? err.code : 0;
        if (code === 404) return { outcome: 'not_found', message: `pod ${namespace}/${name} not found` };
        // A 409 after a retried 429 may be our own earlier attempt that the API server did finish.
        if (code === 409) return this.afterConflict(args, apiMessage(err));
        const wait = code === 429 ? retryAfterMs(err as ApiException<unknown>, attempt) : undefined;
        if (wait === undefined || Date.now() + wait > deadline) {
          return { outcome: 'error', message: `binding ${namespace}/${name} to ${node} failed: ${apiMessage(err)}` };
        }
        await this.sleep(wait);
      }
    }
  }

  async readPod(namespace: string, name: string): Promise<Pod | undefined> {
    try {
      // The typed object has Date timestamps where Pod has strings; kube.ts reads both.
      return (await this.core.readNamespacedPod({ name, namespace })) as unknown as Pod;
    } catch {
      return undefined;
    }
  }

  /** 409: the pod is bound already, or its UID changed; the pod as it is now decides (conflictOutcome). */
  private async afterConflict(args: ExtenderBindingArgs, why: string): Promise<BindOutcome> {
    const { PodName: name, PodNamespace: namespace } = args;
    let pod;
    try {
      pod = await this.core.readNamespacedPod({ name, namespace });
    } catch (err) {
      return {
        outcome: 'conflict',
        message: `binding ${namespace}/${name} conflicted (${why}); re-reading it failed: ${apiMessage(err)}`,
      };
    }
    return conflictOutcome(args, { uid: pod.metadata?.uid, nodeName: pod.spec?.nodeName });
  }
}

/** The Binding that binds the pod to the node: the pod's UID as a precondition, the annotations to copy. */
export function bindingFor(args: ExtenderBindingArgs, annotations: Readonly<Record<string, string>>): V1Binding {
  const { PodName: name, PodNamespace: namespace, PodUID: uid, Node: node } = args;
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name, namespace, uid: uid || undefined, annotations: { ...annotations } },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  };
}

/**
 * What a 409 means, given the pod as the API server has it after it: only "bound to the node asked for,
 * and the same pod" is a success (a retry after a lost reply); a pod on another node, or re-created under
 * the same name (another UID), is a conflict with a message that says which.
 */
export function conflictOutcome(
  args: ExtenderBindingArgs,
  pod: { readonly uid?: string; readonly nodeName?: string },
): BindOutcome {
  const { PodName: name, PodNamespace: namespace, PodUID: uid, Node: node } = args;
  if (uid && pod.uid !== uid) {
    return { outcome: 'conflict', message: `pod ${namespace}/${name} was re-created (UID ${uid} is gone)` };
  }
  if (pod.nodeName === node) return ok('already_bound');
  return {
    outcome: 'conflict',
    message: `pod ${namespace}/${name} is already bound to ${pod.nodeName ?? 'another node'}, not ${node}`,
  };
}

/**
 * How long to wait before retrying a 429: the Retry-After seconds the API server sent (APF sends 1),
 * else 250 ms doubling per attempt; capped at 2 s, with up to a quarter added at random so a burst of
 * refused bindings does not come back at once.
 */
export function retryAfterMs(err: ApiException<unknown>, attempt: number, random: () => number = Math.random): number {
  const base = retryAfterHeaderMs(err) ?? 250 * 2 ** Math.min(attempt, 3);
  const capped = Math.min(base, 2000);
  return Math.round(capped * (1 + random() / 4));
}

/** The API server's own message from a Status body, else the error's. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    try {
      const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | null;
      if (status && typeof status.message === 'string') return status.message;
    } catch {
      // not JSON: fall through to the code
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}
