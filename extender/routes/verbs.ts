// The kube-scheduler extender verbs (k8s.io/kube-scheduler/extender/v1). With nodeCacheCapable the
// scheduler sends node names and the extender reads nodes from its cache; without, it sends whole Node
// objects and expects the passing ones back. Either way the slices in use come from the pod cache.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { PLACEMENT_ANNOTATION } from '../../api/labels.js';
import {
  demandKey,
  nodeChecker,
  scoreNodes,
  type NodeMigState,
  type PodDemand,
} from '../../policy/placement/node-score.js';
import type { PodRecord } from '../cache.js';
import type { ExtenderContext } from '../context.js';
import { demandOf, scoreOptions } from '../context.js';
import { ExtenderError } from '../errors.js';
import { registerJsonBody, sentNodeItems, sentNodeNames, type SentNodeItems } from '../json-body.js';
import { JsonWriter } from '../json-writer.js';
import { KeptScores } from '../kept-scores.js';
import type { PlacementRecord } from '../kube.js';
import { NodeItemMemo } from '../node-items.js';
import {
  FilterAnswers,
  hostPriorityList,
  writeHostPriorityList,
  writeListName,
  type FilterAnswer,
} from '../name-replies.js';
import { NameListMemo, type NameList } from '../node-names.js';
import {
  BindingResultSchema,
  ExtenderArgsSchema,
  ExtenderBindingArgsSchema,
  type ExtenderArgs,
  type ExtenderBindingArgs,
  type Node,
} from '../schemas.js';

const UNKNOWN_NODE = 'node not in the smartmig extender cache yet';
const JSON_TYPE = 'application/json; charset=utf-8';

/** The candidates of a request: names with cached state (cache mode), or the Node objects sent. */
interface Candidates {
  readonly count: number;
  readonly states: readonly (NodeMigState | undefined)[];
  /** Writes candidate i's name, a JSON string. */
  readonly writeName: (out: JsonWriter, i: number) => void;
  /** The names as the request bytes hold them (node-names.ts), when the parser read them there. */
  readonly list?: NameList;
  /** Full-list mode: where each Node object lies in the request bytes (when the body parser found them). */
  readonly sent?: SentNodeItems;
  readonly objects?: readonly Node[];
}

function candidates(args: ExtenderArgs, body: object, ctx: ExtenderContext, memo: NodeItemMemo): Candidates {
  const list = sentNodeNames(body);
  if (list) {
    const states = ctx.cache.nodeStatesOf(list);
    return { count: list.count, states, writeName: (out, i) => writeListName(out, list, i), list };
  }
  if (args.NodeNames) {
    const names = args.NodeNames;
    return { ...named(names), states: names.map((n) => ctx.cache.nodeState(n)) };
  }
  if (args.Nodes) {
    const objects = args.Nodes.items ?? [];
    const found = sentNodeItems(body);
    const sent = found?.spans.length === objects.length ? found : undefined;
    const names = objects.map((n) => n.metadata.name);
    return { ...named(names), states: sentStates(objects, sent, ctx, memo), sent, objects };
  }
  throw new ExtenderError('SMARTMIG_NO_NODES', 'ExtenderArgs has neither NodeNames (nodeCacheCapable) nor Nodes');
}

/** Candidates named by strings: their count and how each name is written. */
function named(names: readonly string[]): Pick<Candidates, 'count' | 'writeName'> {
  return { count: names.length, writeName: (out, i) => out.string(names[i] as string) };
}

/**
 * The states of the Nodes sent. An item the memo knew is a stand-in with only its name: its facts come
 * from the memo. The other items have passed validation by now, so the memo learns them for next time.
 */
function sentStates(
  objects: readonly Node[],
  sent: SentNodeItems | undefined,
  ctx: ExtenderContext,
  memo: NodeItemMemo,
): NodeMigState[] {
  if (!sent) return objects.map((n) => ctx.cache.nodeStateFrom(n));
  const known = [...sent.known];
  const news: number[] = [];
  for (let i = 0; i < known.length; i++) if (!known[i]) news.push(i);
  const learnt = memo.remember(
    sent.body,
    news.map((i) => ({
      span: sent.spans[i] as [number, number],
      node: objects[i] as Node,
      depth: sent.depths[i] ?? 1,
    })),
  );
  news.forEach((i, j) => (known[i] = learnt[j]));
  return objects.map((n, i) => {
    const k = known[i];
    return k ? ctx.cache.nodeStateOf(k.info, k.resourceVersion) : ctx.cache.nodeStateFrom(n);
  });
}

const COMMA = Buffer.from(',');
const LIST_END = Buffer.from(']}}');

/**
 * The filter result with the passing Node objects as the scheduler sent them: views of the request bytes,
 * written out without copying (serialising up to megabytes of objects again would cost more than the
 * decision, and copying them would add as much short-lived off-heap memory, which V8 answers with
 * garbage collection). Consecutive passing items are one view, with the separators they had.
 */
function filterReplyParts(head: JsonWriter, passed: readonly number[], sent: SentNodeItems): Buffer[] {
  const parts: Buffer[] = [head.raw(',"Nodes":{"items":[').bytes()];
  for (let r = 0; r < passed.length;) {
    let last = r;
    while (last + 1 < passed.length && passed[last + 1] === (passed[last] as number) + 1) last++;
    const start = (sent.spans[passed[r] as number] as readonly [number, number])[0];
    const end = (sent.spans[passed[last] as number] as readonly [number, number])[1];
    if (r > 0) parts.push(COMMA);
    parts.push(sent.body.subarray(start, end));
    r = last + 1;
  }
  parts.push(LIST_END);
  return parts;
}

/** A stream of buffers that are all there already. */
class BufferList extends Readable {
  constructor(private parts: readonly Buffer[]) {
    super();
  }
  override _read(): void {
    for (const p of this.parts) this.push(p);
    this.parts = [];
    this.push(null);
  }
}

export async function verbRoutes(app: FastifyInstance, ctx: ExtenderContext): Promise<void> {
  // filter and prioritize get the same full Node lists again and again: their parser skips the items it
  // has seen (node-items.ts). The memo is theirs alone, so this plugin has its own JSON parser.
  const memo = new NodeItemMemo();
  // Node name lists come again and again too (node-names.ts), and so do their filter answers and the
  // parts of their prioritize keys that do not move with the clock.
  const answers = new FilterAnswers();
  const kept = new KeptScores();
  const buffers = registerJsonBody(app, { ...ctx.config, memo, names: new NameListMemo() });
  // Replies of thousands of names are written into buffers lent for the request (body-reader.ts).
  const lendTo = (req: object) => (size: number) => buffers.acquire(req, size);

  app.post('/filter', { schema: { body: ExtenderArgsSchema }, config: { verb: 'filter' } }, async (req, reply) => {
    const args = req.body as ExtenderArgs;
    const now = ctx.clock();
    const { demand } = demandOf(args.Pod, ctx, now);
    const c = candidates(args, req.body as object, ctx, memo);
    const lend = lendTo(req);
    if (!c.objects) {
      const a = nameFilter(c, demand, answers, lend);
      countFilter(ctx, a.rejected, a.passed);
      req.log.debug({ pod: podKey(args), passed: a.passed, of: c.count }, 'filter');
      return reply.type(JSON_TYPE).send(a.reply);
    }
    const f = filterNodes(c, demand);
    countFilter(ctx, f.rejected, f.passed.length);
    req.log.debug({ pod: podKey(args), passed: f.passed.length, of: c.count }, 'filter');
    const head = filterHead(f, c, lend);
    if (!c.sent) {
      const items = f.passed.map((i) => c.objects?.[i]);
      return reply.type(JSON_TYPE).send(head.raw(',"Nodes":').json({ items }).raw('}').bytes());
    }
    const parts = filterReplyParts(head, f.passed, c.sent);
    const length = parts.reduce((n, p) => n + p.length, 0);
    return reply.type(JSON_TYPE).header('content-length', length).send(new BufferList(parts));
  });

  app.post(
    '/prioritize',
    { schema: { body: ExtenderArgsSchema }, config: { verb: 'prioritize' } },
    async (req, reply) => {
      const args = req.body as ExtenderArgs;
      const now = ctx.clock();
      const { demand } = demandOf(args.Pod, ctx, now);
      const c = candidates(args, req.body as object, ctx, memo);
      const opts = scoreOptions(ctx, now);
      // A list seen once (a window of the nodes that will not come again) keeps nothing.
      const scores =
        Object.keys(demand.slices).length === 0
          ? new Array<number>(c.count).fill(0)
          : c.list && c.list.seen > 0
            ? kept.score(c.list, demand, c.states, opts)
            : scoreNodes(demand, c.states, opts);
      ctx.metrics.decisions.inc({ verb: 'prioritize', outcome: 'scored' });
      const lend = lendTo(req);
      if (c.list) return reply.type(JSON_TYPE).send(hostPriorityList(c.list, scores, lend));
      return reply.type(JSON_TYPE).send(writeHostPriorityList(c.count, c.writeName, scores, lend));
    },
  );

  app.post(
    '/bind',
    { schema: { body: ExtenderBindingArgsSchema, response: { 200: BindingResultSchema } }, config: { verb: 'bind' } },
    async (req) => {
      const args = req.body as ExtenderBindingArgs;
      const key = `${args.PodNamespace}/${args.PodName}`;
      // Without a UID the Binding has no precondition, and any pod of that name could be bound. kube-scheduler
      // always sends one; the refusal goes in Error (HTTP 200), which it copies into the pod's events, where a
      // non-200 status would only show as "code 400".
      if (!args.PodUID) {
        ctx.metrics.decisions.inc({ verb: 'bind', outcome: 'refused' });
        req.log.warn({ pod: key, node: args.Node }, 'bind without PodUID refused');
        return {
          Error: `bind of ${key} refused: PodUID is missing or empty (the pod's UID is the binding's precondition)`,
        };
      }
      const now = ctx.clock();
      const pod = await findPod(args, ctx, now);
      // Checked and assumed in one synchronous step: no other bind can take the slice in between.
      const refusal = bindRefusal(args, pod, ctx);
      if (refusal) {
        ctx.metrics.decisions.inc({ verb: 'bind', outcome: 'refused' });
        req.log.info({ pod: key, node: args.Node, reason: refusal }, 'bind refused');
        return { Error: refusal };
      }
      const record: PlacementRecord = {
        node: args.Node,
        slices: pod?.slices ?? {},
        heuristic: ctx.config.heuristic,
        at: new Date(now).toISOString(),
        expectedFinish: null,
        deadline: pod?.intent.deadlineMs === undefined ? null : new Date(pod.intent.deadlineMs).toISOString(),
      };
      const bound = pod ? ctx.cache.assume(pod, args.Node, now) : undefined;
      const finish = bound?.finishMs;
      const annotations = {
        [PLACEMENT_ANNOTATION]: JSON.stringify({
          ...record,
          expectedFinish: finish === undefined ? null : new Date(finish).toISOString(),
        }),
      };
      const outcome = await ctx.binder.bind(args, annotations);
      // Undo the assumption on failure, so the slice counts as free again.
      if (pod && bound && outcome.outcome !== 'bound' && outcome.outcome !== 'already_bound') {
        ctx.cache.restore(pod, bound);
      }
      ctx.metrics.decisions.inc({ verb: 'bind', outcome: outcome.outcome });
      req.log.info({ pod: `${args.PodNamespace}/${args.PodName}`, node: args.Node, outcome: outcome.outcome }, 'bind');
      return { Error: outcome.message };
    },
  );
}

function countFilter(ctx: ExtenderContext, rejected: ReadonlyMap<string, number>, passed: number): void {
  for (const [reason, n] of rejected) ctx.metrics.rejectedNodes.inc({ reason }, n);
  ctx.metrics.decisions.inc({ verb: 'filter', outcome: passed > 0 ? 'fit' : 'no_fit' });
}

/**
 * The filter answer in names mode: with a list read from the bytes, the one kept for it (name-replies.ts)
 * while its nodes' states are the same.
 */
function nameFilter(
  c: Candidates,
  demand: PodDemand,
  answers: FilterAnswers,
  alloc: (size: number) => Buffer,
): FilterAnswer {
  const key = c.list ? demandKey(demand) : '';
  const kept = c.list ? answers.get(c.list, key, c.states) : undefined;
  if (kept) return kept;
  const f = filterNodes(c, demand);
  const head = filterHead(f, c, alloc).raw(',"NodeNames":[');
  for (let k = 0; k < f.passed.length; k++) {
    if (k > 0) head.raw(',');
    c.writeName(head, f.passed[k] as number);
  }
  const a = { reply: head.raw(']}').bytes(), rejected: f.rejected, passed: f.passed.length };
  if (c.list) answers.set(c.list, key, c.states, a);
  return a;
}

interface Filtered {
  /** Indices into the candidates. */
  readonly passed: number[];
  /** Candidates rejected for now (FailedNodes) and for good (FailedAndUnresolvableNodes), with why. */
  readonly failed: Rejected;
  readonly unresolvable: Rejected;
  /** Rejections by reason, counted here and added to the metric once per request. */
  readonly rejected: Map<string, number>;
}

/** Indices into the candidates and the reason for each, side by side. */
interface Rejected {
  readonly at: number[];
  readonly reasons: string[];
}

function filterNodes(c: Candidates, demand: PodDemand): Filtered {
  const needsMig = Object.keys(demand.slices).length > 0;
  const out: Filtered = {
    passed: [],
    failed: { at: [], reasons: [] },
    unresolvable: { at: [], reasons: [] },
    rejected: new Map(),
  };
  const check = nodeChecker(demand);
  for (let i = 0; i < c.states.length; i++) {
    const state = c.states[i];
    const v = !needsMig ? undefined : state ? check(state) : null;
    if (v === undefined || v?.fits) {
      out.passed.push(i);
      continue;
    }
    const to = v === null || v.resolvable ? out.failed : out.unresolvable;
    to.at.push(i);
    to.reasons.push(v === null ? UNKNOWN_NODE : v.reason);
    const code = v === null ? 'unknown-node' : v.code;
    out.rejected.set(code, (out.rejected.get(code) ?? 0) + 1);
  }
  return out;
}

/**
 * An ExtenderFilterResult up to its Error field, written as bytes (json-writer.ts); the caller adds the
 * passing nodes and the closing brace. A name the request repeats is written once per mention, with the
 * same reason each time, so the map a client decodes is the one it would be otherwise.
 */
function filterHead(f: Filtered, c: Candidates, alloc: (size: number) => Buffer): JsonWriter {
  const out = new JsonWriter(c.count * 48 + 128, alloc);
  const map = (key: string, { at, reasons }: Rejected) => {
    out.raw(key);
    for (let k = 0; k < at.length; k++) {
      if (k > 0) out.raw(',');
      c.writeName(out, at[k] as number);
      out.raw(':').string(reasons[k] as string);
    }
    out.raw('}');
  };
  map('{"FailedNodes":{', f.failed);
  map(',"FailedAndUnresolvableNodes":{', f.unresolvable);
  return out.raw(',"Error":""');
}

/**
 * Why the node can no longer take the pod, if it cannot: filter judged an older picture, and since then
 * the node may have begun a repartition, been cordoned, or filled up (a bind retried after a timeout,
 * another replica). The pod's own slices count as free when the cache has it on this node already (a
 * repeated bind). Pods the cache holds no slices for, or has on another node, are left to the API server.
 */
function bindRefusal(args: ExtenderBindingArgs, pod: PodRecord | undefined, ctx: ExtenderContext): string | undefined {
  if (!pod || Object.keys(pod.slices).length === 0) return undefined;
  // Bound elsewhere already: the API server's 409 says where, which tells more than this node's state.
  if (pod.nodeName !== undefined && pod.nodeName !== args.Node) return undefined;
  const key = `${args.PodNamespace}/${args.PodName}`;
  const state = ctx.cache.nodeState(args.Node);
  if (!state) return `bind of ${key} refused: node ${args.Node} is not in the smartmig extender cache`;
  const view = pod.nodeName === undefined ? state : { ...state, used: withoutSlices(state.used, pod.slices) };
  const verdict = nodeChecker({ slices: pod.slices })(view);
  return verdict.fits
    ? undefined
    : `bind of ${key} refused: node ${args.Node} can no longer take it: ${verdict.reason}`;
}

function withoutSlices(
  used: ReadonlyMap<string, number>,
  slices: Readonly<Record<string, number>>,
): ReadonlyMap<string, number> {
  const out = new Map(used);
  for (const [p, n] of Object.entries(slices)) out.set(p, Math.max(0, (out.get(p) ?? 0) - n));
  return out;
}

/** The pod from the cache, or from the API server when the watch has not delivered it yet. */
async function findPod(args: ExtenderBindingArgs, ctx: ExtenderContext, now: number): Promise<PodRecord | undefined> {
  const cached =
    (args.PodUID ? ctx.cache.pod(args.PodUID) : undefined) ?? ctx.cache.podByName(args.PodNamespace, args.PodName);
  if (cached) return cached;
  const pod = await ctx.binder.readPod(args.PodNamespace, args.PodName);
  if (!pod) return undefined;
  ctx.cache.upsertPod(pod, now);
  return pod.metadata.uid ? ctx.cache.pod(pod.metadata.uid) : undefined;
}

function podKey(args: ExtenderArgs): string {
  return `${args.Pod.metadata.namespace ?? ''}/${args.Pod.metadata.name ?? ''}`;
}
