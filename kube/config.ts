// Kubernetes client configuration shared by every adapter (extender, operator, fake-gpu).
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

/** A kubeconfig that cannot be used: the caller's to fix, so the CLI prints it as one line. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** The TLS options of an agent that decide which connections it may share. */
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/**
 * Connections to the API server at once, per credentials: calls beyond wait in the agent for a free one.
 * Unbounded, a burst of bindings (kube-scheduler hands the extender hundreds at once when the API server
 * slows) opened one TLS connection per call, and the handshakes, on both ends, slowed the API server
 * further; watches hold one each for as long as they run.
 */
export const MAX_SOCKETS = 32;

/** Ceiling of one API call: far above a healthy list of 50,000 pods, far below forever. */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * client-node 1.x gives every API call a new https.Agent, so a new TCP connection and TLS handshake each
 * time; under load (the extender binding pod after pod, fake-gpu patching statuses) the handshakes cost
 * more CPU than the calls. This one hands every call the same keep-alive agent while the credentials stay
 * the same; rotated credentials (a re-read certificate file) get a new agent. Its connections share one
 * TLS context, so a new connection does not parse the key, certificate and CA again.
 */
export class PooledKubeConfig extends KubeConfig {
  private pooled: { readonly key: string; readonly agent: Agent } | undefined;
  /**
   * Each API call (not a watch) gives up after this many ms, 0 for never: an API server that accepts the
   * connection and never answers must not hold a round, a binding or a status write forever.
   */
  requestTimeoutMs = REQUEST_TIMEOUT_MS;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (this.requestTimeoutMs > 0 && context.getSignal() === undefined) {
      context.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
    }
    const made = context.getAgent();
    // Proxy agents and plain HTTP keep client-node's own agent.
    if (made?.constructor !== Agent) return;
    const options = (made as Agent).options;
    const key = TLS_KEYS.map((k) => String(options[k] ?? '')).join('\0');
    if (this.pooled?.key !== key) {
      // The previous agent is left to close its idle sockets: calls in flight may still use it.
      const { ca, cert, key: privateKey, pfx, passphrase } = options;
      const secureContext = createSecureContext({ ca, cert, key: privateKey, pfx, passphrase });
      const agent = new Agent({
        ...options,
        keepAlive: true,
        scheduling: 'lifo',
        maxSockets: MAX_SOCKETS,
        secureContext,
      });
      this.pooled = { key, agent };
    }
    context.setAgent(this.pooled.agent);
  }
}

/** Loads a kubeconfig file, or else the in-cluster service account, $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new PooledKubeConfig();
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
