// Replies to name lists (nodeCacheCapable) kept with the list (node-names.ts: the same NameList object
// means the same names in the same order). With all 5,000 names in a request, writing the reply cost as
// much as deciding, and kube-scheduler sends the same list again and again:
//   - a filter answer depends only on the names, on each node's state and on the slices the pod asks
//     for (node-score.ts `check` reads nothing else; states are immutable and the cache replaces a state
//     whenever its node or one of its pods changes). So an answer is kept per list and demand, with the
//     states it was worked out from, and given again while every state is the same object;
//   - a prioritize answer depends on the clock, so it is worked out every time, but its text is the list's
//     names with a score after each: it is written once per list with score 0 everywhere, and each reply
//     is a copy of that template with the scores put in.

import type { NodeMigState } from '../policy/placement/node-score.js';
import { JsonWriter } from './json-writer.js';
import { sameStates } from './kept-scores.js';
import type { NameList } from './node-names.js';

/** Writes element i of the list: its name with the quotes, which is its JSON text. */
export function writeListName(out: JsonWriter, list: NameList, i: number): void {
  out.span(list.bytes, (list.at[3 * i] as number) - 1, (list.at[3 * i + 1] as number) + 1);
}

export interface FilterAnswer {
  /** The ExtenderFilterResult's JSON text. */
  readonly reply: Buffer;
  /** Rejected nodes by reason code (for the metric). */
  readonly rejected: ReadonlyMap<string, number>;
  readonly passed: number;
}

interface Kept {
  readonly demand: string;
  readonly states: readonly (NodeMigState | undefined)[];
  readonly answer: FilterAnswer;
}

/** Demands kept per list: a scheduler queue holds pods of a few shapes, each asking one profile or two. */
const DEMANDS_PER_LIST = 4;

/** Filter answers by list and demand, with the node states each was worked out from. */
export class FilterAnswers {
  private readonly kept = new WeakMap<NameList, Kept[]>();

  /** The answer for `demand` (a key of the slices asked for) if the states are the ones it was given for. */
  get(list: NameList, demand: string, states: readonly (NodeMigState | undefined)[]): FilterAnswer | undefined {
    for (const k of this.kept.get(list) ?? []) {
      if (k.demand === demand && sameStates(k.states, states)) return k.answer;
    }
    return undefined;
  }

  set(list: NameList, demand: string, states: readonly (NodeMigState | undefined)[], answer: FilterAnswer): void {
    // A list seen once (a window of the nodes that will not come again) keeps nothing.
    if (list.seen === 0) return;
    const others = (this.kept.get(list) ?? []).filter((k) => k.demand !== demand);
    // The reply is copied out of the writer's larger buffer, so a kept answer holds only its own bytes.
    const kept = { ...answer, reply: Buffer.from(answer.reply) };
    this.kept.set(list, [{ demand, states, answer: kept }, ...others.slice(0, DEMANDS_PER_LIST - 1)]);
  }
}

/** A HostPriorityList of a list with score 0 everywhere, and where each score's digit is. */
interface Template {
  readonly text: Buffer;
  readonly digits: Int32Array;
}

const templates = new WeakMap<NameList, Template>();

function template(list: NameList): Template {
  let t = templates.get(list);
  if (t) return t;
  const out = new JsonWriter(list.bytes.length + list.count * 24 + 2).raw('[');
  const digits = new Int32Array(list.count);
  for (let i = 0; i < list.count; i++) {
    out.raw(i > 0 ? ',{"Host":' : '{"Host":');
    writeListName(out, list, i);
    out.raw(',"Score":');
    digits[i] = out.length;
    out.raw('0}');
  }
  t = { text: Buffer.from(out.raw(']').bytes()), digits };
  templates.set(list, t);
  return t;
}

/**
 * The HostPriorityList `[{"Host":…,"Score":…}, …]` of the list with these scores, as JsonWriter would
 * write it: for a list that has come again, its template with each digit put in (a score of 10 takes one
 * byte more, so the template is copied in pieces around those). `alloc` gives the reply's buffer (at
 * least the size asked for; the verbs lend it: LentBuffers, body-reader.ts).
 */
export function hostPriorityList(
  list: NameList,
  scores: readonly number[],
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  // A list seen once is written out; one that came again gets (or has) its template.
  if (list.seen === 0 && !templates.has(list)) return writtenList(list, scores, alloc);
  const { text, digits } = template(list);
  let wide = 0;
  for (let i = 0; i < list.count; i++) {
    const s = scores[i] as number;
    if (s === 10) wide++;
    else if (!(s >= 0 && s < 10 && Number.isInteger(s))) return writtenList(list, scores, alloc);
  }
  const out = alloc(text.length + wide).subarray(0, text.length + wide);
  if (wide === 0) {
    text.copy(out);
  } else {
    // The template in pieces, each score of 10 written in place of its "0", the rest shifted behind it.
    let from = 0;
    let shift = 0;
    for (let i = 0; i < list.count; i++) {
      if (scores[i] !== 10) continue;
      const d = digits[i] as number;
      text.copy(out, from + shift, from, d);
      out[d + shift] = 0x31;
      out[d + shift + 1] = 0x30;
      from = d + 1;
      shift++;
    }
    text.copy(out, from + shift, from);
  }
  let shift = 0;
  for (let i = 0; i < list.count; i++) {
    const s = scores[i] as number;
    if (s === 10) shift++;
    else if (s !== 0) out[(digits[i] as number) + shift] = 0x30 + s;
  }
  return out;
}

/** The same text written element by element (scores that are not 0..10 whole numbers). */
function writtenList(list: NameList, scores: readonly number[], alloc: (size: number) => Buffer): Buffer {
  return writeHostPriorityList(list.count, (out, i) => writeListName(out, list, i), scores, alloc);
}

/**
 * A HostPriorityList, `[{"Host":…,"Score":…}, …]`, written as bytes (json-writer.ts): `writeName` writes
 * name i as a JSON string. For lists without a template (names parsed from JSON, full Node lists).
 */
export function writeHostPriorityList(
  count: number,
  writeName: (out: JsonWriter, i: number) => void,
  scores: readonly number[],
  alloc: (size: number) => Buffer,
): Buffer {
  const out = new JsonWriter(count * 40 + 2, alloc).raw('[');
  for (let i = 0; i < count; i++) {
    out.raw(i > 0 ? ',{"Host":' : '{"Host":');
    writeName(out, i);
    out
      .raw(',"Score":')
      .number(scores[i] as number)
      .raw('}');
  }
  return out.raw(']').bytes();
}
