// Pure: the pod status patches a kubelet would write (strategic merge: conditions merge by type).
import type { V1Pod } from '@kubernetes/client-node';

/** RFC 3339 to the second, as the API server stores times. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

type Condition = { type: string; status: 'True' | 'False'; lastTransitionTime: string; reason?: string };

function conditions(status: 'True' | 'False', at: string, reason?: string): Condition[] {
  return ['Initialized', 'PodReadyToStartContainers', 'ContainersReady', 'Ready'].map((type) => {
    // Initialization and sandbox stay done when a pod completes; only readiness falls.
    const s = type === 'ContainersReady' || type === 'Ready' ? status : 'True';
    return reason && s === 'False'
      ? { type, status: s, lastTransitionTime: at, reason }
      : { type, status: s, lastTransitionTime: at };
  });
}

function containerNames(pod: V1Pod): { name: string; image: string }[] {
  return (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' }));
}

export interface StatusPatch {
  readonly status: Record<string, unknown>;
}

/** Running since `started`: every container started and ready. */
export function runningPatch(pod: V1Pod, started: Date): StatusPatch {
  const at = rfc3339(started);
  return {
    status: {
      phase: 'Running',
      startTime: at,
      conditions: conditions('True', at),
      containerStatuses: containerNames(pod).map((c) => ({
        ...c,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: at } },
      })),
    },
  };
}

function terminated(pod: V1Pod, started: Date, finished: Date, exitCode: number, reason: string) {
  return containerNames(pod).map((c) => ({
    ...c,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason, startedAt: rfc3339(started), finishedAt: rfc3339(finished) } },
  }));
}

/** Every container exited 0. */
export function succeededPatch(pod: V1Pod, started: Date, finished: Date): StatusPatch {
  return {
    status: {
      phase: 'Succeeded',
      conditions: conditions('False', rfc3339(finished), 'PodCompleted'),
      containerStatuses: terminated(pod, started, finished, 0, 'Completed'),
    },
  };
}

/** Rejected at admission, as kubelet rejects a pod whose devices are not there (reason `OutOf<resource>`). */
export function rejectedPatch(reason: string, message: string): StatusPatch {
  return { status: { phase: 'Failed', reason, message } };
}

/** Its containers died with the device they ran on. */
export function killedPatch(pod: V1Pod, started: Date, finished: Date, reason: string, message: string): StatusPatch {
  return {
    status: {
      phase: 'Failed',
      reason,
      message,
      conditions: conditions('False', rfc3339(finished), 'PodFailed'),
      containerStatuses: terminated(pod, started, finished, 1, 'Error'),
    },
  };
}
