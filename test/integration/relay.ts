// A TCP relay to the API server that can drop every connection and refuse new ones, or hang: keep every
// connection open and forward nothing. How the integration tests make the operator live through an outage.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeconfigPath, type Identity } from '../support/cluster.js';

export class Cuttable {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  /** Kept across cut() so that start() listens again where the kubeconfigs point. */
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;
  private hanging = false;

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.server = createServer((inbound) => {
      this.accepted++;
      if (this.hanging) {
        // Accepted, never answered: the TLS handshake waits forever.
        this.open.add(inbound);
        inbound.on('close', () => this.open.delete(inbound));
        inbound.on('error', () => inbound.destroy());
        inbound.pause();
        return;
      }
      const outbound = connect(Number(this.target.port), this.target.hostname);
      for (const s of [inbound, outbound]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
        s.on('error', () => s.destroy());
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** An API server that hangs rather than refuses: open connections go silent, new ones are never answered. */
  hang(): void {
    this.hanging = true;
    for (const s of this.open) {
      s.unpipe();
      s.pause();
    }
  }

  async cut(): Promise<void> {
    this.hanging = false;
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** An identity's kubeconfig, pointed at the relay. */
  kubeConfig(identity: Identity, make: () => KubeConfig = () => new KubeConfig()): KubeConfig {
    const kc = make();
    kc.loadFromFile(kubeconfigPath(identity));
    const current = kc.getCurrentCluster();
    kc.clusters = kc.clusters.map((c) =>
      c.name === current?.name ? { ...c, server: `https://127.0.0.1:${this.port}` } : c,
    );
    return kc;
  }
}
