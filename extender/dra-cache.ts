// The extender's picture of DRA nodes (docs/extender.md, "DRA nodes"): per node (the driver's pool is named
// after it) the MIG devices NVIDIA's DRA driver publishes, those smartmig's DeviceTaintRules take away, and
// those allocated claims hold; and per ResourceClaim the MIG slices it asks for, so a claim pod's demand can be
// read. Kept compact (device names, not objects). The informers (dra-informers.ts) feed it; ClusterCache turns
// a DRA node into a NodeMigState with dra/node-mig.ts and is told which node changed.
import { claimMigDemand, podClaimSlices, type ClaimSpecShape, type PodClaimsShape } from '../dra/claim-demand.js';
import { DRIVER } from '../dra/devices.js';
import { draNodeMig, type DraNodeMig } from '../dra/node-mig.js';
import { STEERING_TAINT } from '../dra/steering.js';
import type { GpuModel } from '../policy/mig/catalog.js';

/** A ResourceSlice as far as the extender reads it (typed client objects or watch JSON). */
export interface SliceShape {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly driver?: string;
    readonly pool?: { readonly name?: string };
    readonly devices?: readonly { readonly name?: string }[];
  };
}

/** A resource.k8s.io/v1 DeviceTaintRule as far as the extender reads it. */
export interface TaintRuleShape {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly deviceSelector?: { readonly driver?: string; readonly pool?: string; readonly device?: string };
    readonly taint?: { readonly key?: string; readonly effect?: string };
  };
}

/** A ResourceClaim as far as the extender reads it. */
export interface ClaimShape {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: ClaimSpecShape;
  readonly status?: {
    readonly allocation?: {
      readonly devices?: { readonly results?: readonly { driver?: string; pool?: string; device?: string }[] };
    };
  };
}

interface ClaimRecord {
  readonly demand?: Readonly<Record<string, number>>;
  /** Pool → devices of the driver the claim holds there. */
  readonly held: ReadonlyMap<string, readonly string[]>;
}

/** Key → (pool → values): an index whose entries come and go per object. */
class PoolIndex {
  private readonly byKey = new Map<string, ReadonlyMap<string, readonly string[]>>();
  private readonly byPool = new Map<string, Map<string, readonly string[]>>();

  constructor(private readonly changed: (pool: string) => void) {}

  set(key: string, perPool: ReadonlyMap<string, readonly string[]>): void {
    this.delete(key);
    if (perPool.size === 0) return;
    this.byKey.set(key, perPool);
    for (const [pool, values] of perPool) {
      let m = this.byPool.get(pool);
      if (!m) this.byPool.set(pool, (m = new Map()));
      m.set(key, values);
      this.changed(pool);
    }
  }

  delete(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    for (const pool of old.keys()) {
      const m = this.byPool.get(pool);
      m?.delete(key);
      if (m?.size === 0) this.byPool.delete(pool);
      this.changed(pool);
    }
  }

  clear(): void {
    for (const key of [...this.byKey.keys()]) this.delete(key);
  }

  values(pool: string): string[] {
    return [...(this.byPool.get(pool)?.values() ?? [])].flat();
  }
}

const one = (pool: string | undefined, values: readonly string[]) =>
  new Map(pool && values.length > 0 ? [[pool, values]] : []);

export class DraCache {
  private readonly slices: PoolIndex;
  private readonly taints: PoolIndex;
  private readonly allocations: PoolIndex;
  private readonly claims = new Map<string, ClaimRecord>();

  /** `changed` is told the node (pool) whose DRA state changed. */
  constructor(changed: (node: string) => void) {
    this.slices = new PoolIndex(changed);
    this.taints = new PoolIndex(changed);
    this.allocations = new PoolIndex(changed);
  }

  get claimCount(): number {
    return this.claims.size;
  }

  upsertSlice(s: SliceShape): void {
    const name = s.metadata?.name;
    if (!name) return;
    if (s.spec?.driver !== DRIVER) return this.slices.delete(name);
    const devices = (s.spec.devices ?? []).flatMap((d) => (d.name ? [d.name] : []));
    this.slices.set(name, one(s.spec.pool?.name, devices));
  }

  deleteSlice(s: SliceShape): void {
    if (s.metadata?.name) this.slices.delete(s.metadata.name);
  }

  replaceSlices(items: Iterable<SliceShape>): void {
    this.slices.clear();
    for (const s of items) this.upsertSlice(s);
  }

  /** Only smartmig's steering taint counts: other taints are someone else's (and a pod may tolerate them). */
  upsertTaintRule(r: TaintRuleShape): void {
    const name = r.metadata?.name;
    if (!name) return;
    const sel = r.spec?.deviceSelector;
    const t = r.spec?.taint;
    const ours =
      t?.key === STEERING_TAINT.key &&
      (t.effect === 'NoSchedule' || t.effect === 'NoExecute') &&
      (sel?.driver === undefined || sel.driver === DRIVER) &&
      sel?.device !== undefined;
    if (!ours) return this.taints.delete(name);
    this.taints.set(name, one(sel.pool, [sel.device as string]));
  }

  deleteTaintRule(r: TaintRuleShape): void {
    if (r.metadata?.name) this.taints.delete(r.metadata.name);
  }

  replaceTaintRules(items: Iterable<TaintRuleShape>): void {
    this.taints.clear();
    for (const r of items) this.upsertTaintRule(r);
  }

  upsertClaim(c: ClaimShape): void {
    const key = claimKey(c);
    if (!key) return;
    const held = new Map<string, string[]>();
    for (const r of c.status?.allocation?.devices?.results ?? []) {
      if (r.driver !== DRIVER || !r.pool || !r.device) continue;
      const list = held.get(r.pool) ?? [];
      list.push(r.device);
      held.set(r.pool, list);
    }
    this.claims.set(key, { demand: claimMigDemand(c.spec), held });
    this.allocations.set(key, held);
  }

  deleteClaim(c: ClaimShape): void {
    const key = claimKey(c);
    if (!key) return;
    this.claims.delete(key);
    this.allocations.delete(key);
  }

  replaceClaims(items: Iterable<ClaimShape>): void {
    this.claims.clear();
    this.allocations.clear();
    for (const c of items) this.upsertClaim(c);
  }

  /** The MIG slices the named claim asks for; undefined when unknown or not a MIG claim. */
  claimDemand(namespace: string, name: string): Readonly<Record<string, number>> | undefined {
    return this.claims.get(`${namespace}/${name}`)?.demand;
  }

  /** The MIG slices a pod asks for through its claims (empty: none, or its claims are not known yet). */
  podSlices(pod: PodClaimsShape): Record<string, number> {
    const ns = pod.metadata?.namespace ?? 'default';
    return podClaimSlices(pod, (name) => this.claimDemand(ns, name));
  }

  /** A DRA node's MIG state for the scorer. */
  nodeMig(node: string, model: GpuModel): DraNodeMig {
    return draNodeMig(
      model,
      this.slices.values(node),
      new Set(this.taints.values(node)),
      new Set(this.allocations.values(node)),
    );
  }
}

function claimKey(c: ClaimShape): string | undefined {
  const name = c.metadata?.name;
  return name ? `${c.metadata?.namespace ?? 'default'}/${name}` : undefined;
}
