// Node names read from the request bytes (node-names.ts) and the replies kept with them
// (name-replies.ts): the fast path must answer byte for byte as JSON.parse and the schema would, and a
// list it cannot read must be left to them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import { sentNodeNames } from '../../../extender/json-body.js';
import { JsonWriter } from '../../../extender/json-writer.js';
import { hostPriorityList } from '../../../extender/name-replies.js';
import { MAX_NAME_LENGTH, NameIndex, NameListMemo, readNameList, type NameList } from '../../../extender/node-names.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

const bytes = (s: string) => Buffer.from(s);
/** The names a list read from `text` holds, as strings. */
const namesOf = (text: string): string[] | undefined => {
  const b = bytes(text);
  const r = readNameList(b, 0, 10_000);
  return r && Array.from({ length: r.count }, (_, i) => b.toString('latin1', r.at[3 * i], r.at[3 * i + 1]));
};

describe('readNameList', () => {
  it.each([
    ['[]', []],
    [' [ ] '.trim(), []],
    ['["a"]', ['a']],
    ['["a","b"]', ['a', 'b']],
    ['[ "a" ,\n\t"b" ]', ['a', 'b']],
    ['[""]', ['']],
    [`["${'x'.repeat(MAX_NAME_LENGTH)}"]`, ['x'.repeat(MAX_NAME_LENGTH)]],
  ])('%s holds %j', (text, names) => expect(namesOf(text)).toEqual(names));

  it.each([
    ['an escape', '["a\\u0062"]'],
    ['an escaped quote', '["a\\"b"]'],
    ['a non-ASCII character', '["zürich"]'],
    ['a control character', '["a\tb"]'],
    ['a number', '["a",1]'],
    ['null', '[null]'],
    ['a nested array', '[["a"]]'],
    ['a trailing comma', '["a",]'],
    ['a missing comma', '["a" "b"]'],
    ['an unterminated string', '["a'],
    ['an unterminated list', '["a"'],
    ['a name one byte too long', `["${'x'.repeat(MAX_NAME_LENGTH + 1)}"]`],
  ])('leaves a list with %s to JSON.parse', (_, text) => expect(namesOf(text)).toBeUndefined());

  it('leaves a list longer than maxItems to the schema', () => {
    expect(readNameList(bytes('["a","b","c"]'), 0, 2)).toBeUndefined();
    expect(readNameList(bytes('["a","b"]'), 0, 2)?.count).toBe(2);
  });

  it('grows past its first guess of the count', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `${i}`);
    expect(namesOf(JSON.stringify(names))).toEqual(names);
  });
});

describe('NameListMemo', () => {
  it('gives the same list for the same bytes anywhere in a body, and reads a different one afresh', () => {
    const memo = new NameListMemo();
    const first = memo.read(bytes('["a","b"]'), 0, 100)?.list;
    const again = memo.read(bytes('{"NodeNames":["a","b"]}'), 13, 100);
    expect(again?.list).toBe(first);
    expect(again?.close).toBe(21);
    const other = memo.read(bytes('["a","c"]'), 0, 100)?.list;
    expect(other).not.toBe(first);
    expect(other?.bytes.toString()).toBe('["a","c"]');
  });

  it('does not take a longer list for a kept one that is its prefix', () => {
    const memo = new NameListMemo();
    memo.read(bytes('["a"]'), 0, 100);
    const longer = memo.read(bytes('["a"],"b"]'), 0, 100);
    expect(longer?.close).toBe(4);
    expect(memo.read(bytes('["a","b"]'), 0, 100)?.list.count).toBe(2);
  });

  it('keeps at most maxLists, dropping the least recently used', () => {
    const memo = new NameListMemo(2);
    const a = memo.read(bytes('["a"]'), 0, 10)?.list;
    memo.read(bytes('["b"]'), 0, 10);
    expect(memo.read(bytes('["a"]'), 0, 10)?.list).toBe(a);
    memo.read(bytes('["c"]'), 0, 10);
    expect(memo.size).toBe(2);
    expect(memo.read(bytes('["a"]'), 0, 10)?.list).toBe(a);
    expect(memo.read(bytes('["b"]'), 0, 10)?.list).not.toBe(undefined);
  });
});

describe('NameIndex', () => {
  /** The slot of `name` found by its bytes, as a list read from a request would. */
  const findName = (index: NameIndex, name: string) => {
    const b = bytes(JSON.stringify([name]));
    const r = readNameList(b, 0, 1) as NonNullable<ReturnType<typeof readNameList>>;
    return index.find(b, r.at[0] as number, r.at[1] as number, r.at[2] as number);
  };

  it('finds names by their bytes, and not names it lacks or prefixes of them', () => {
    const index = new NameIndex();
    const names = Array.from({ length: 2000 }, (_, i) => `gpu-node-${i}`);
    const slots = names.map((n) => index.add(n));
    expect(names.map((n) => findName(index, n))).toEqual(slots);
    expect(findName(index, 'gpu-node-')).toBe(-1);
    expect(findName(index, 'gpu-node-20000')).toBe(-1);
    expect(findName(index, '')).toBe(-1);
  });

  it('forgets removed names, reuses their slots and changes generation on every add and remove', () => {
    const index = new NameIndex();
    const a = index.add('a');
    index.add('b');
    const g = index.generation;
    expect(index.add('a')).toBe(a);
    expect(index.generation).toBe(g);
    expect(index.remove('a')).toBe(a);
    expect(index.generation).toBeGreaterThan(g);
    expect(findName(index, 'a')).toBe(-1);
    expect(findName(index, 'b')).toBe(index.slotOf('b'));
    expect(index.add('c')).toBe(a);
    expect(findName(index, 'c')).toBe(a);
    index.clear();
    expect(findName(index, 'b')).toBe(-1);
    expect(index.size).toBe(0);
  });

  it('matches a non-ASCII name only through its string (request bytes with one are never read here)', () => {
    const index = new NameIndex();
    index.add('zürich');
    expect(index.slotOf('zürich')).toBe(0);
    expect(findName(index, 'zurich')).toBe(-1);
  });
});

describe('hostPriorityList', () => {
  const list = (names: string[], seen: number): NameList => {
    const b = bytes(JSON.stringify(names));
    const r = readNameList(b, 0, 1000) as NonNullable<ReturnType<typeof readNameList>>;
    return { bytes: b, count: r.count, at: r.at, seen };
  };
  const written = (names: string[], scores: number[]) => {
    const out = new JsonWriter(16).raw('[');
    names.forEach((n, i) => {
      out
        .raw(i > 0 ? ',{"Host":' : '{"Host":')
        .string(n)
        .raw(',"Score":')
        .number(scores[i] as number)
        .raw('}');
    });
    return out.raw(']').bytes().toString();
  };

  it('writes what JsonWriter writes, for any scores (10 is one byte wider; others fall back)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z0-9.-]{0,12}$/), fc.integer({ min: 0, max: 10 })), {
          maxLength: 40,
        }),
        fc.option(fc.constantFrom(11, -1, 2.5), { nil: undefined }),
        (rows, odd) => {
          const names = rows.map(([n]) => n);
          const scores = rows.map(([, s]) => s);
          if (odd !== undefined && scores.length > 0) scores[scores.length - 1] = odd;
          // A list seen once is written out; one seen again gets a template, which the second reply uses.
          expect(hostPriorityList(list(names, 0), scores).toString()).toBe(written(names, scores));
          const again = list(names, 1);
          expect(hostPriorityList(again, scores).toString()).toBe(written(names, scores));
          // Into a lent buffer larger than the reply, left dirty by an earlier one: only the reply's bytes.
          const lent = Buffer.alloc(4096, 0x78);
          expect(hostPriorityList(again, scores, () => lent).toString()).toBe(written(names, scores));
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

function extender() {
  const cache = new ClusterCache(new ProfileBook());
  for (let i = 0; i < 6; i++) {
    cache.upsertNode(node(`n${i}`, { mig: { 'nvidia.com/mig-1g.5gb': i % 3, 'nvidia.com/mig-3g.20gb': i % 2 } }));
  }
  cache.upsertPod(pod('held', { nodeName: 'n1' }), minutes(0));
  return { cache, app: buildExtender({ cache, binder: noBinder, clock: () => minutes(5) }) };
}

async function answer(app: ReturnType<typeof extender>['app'], verb: string, payload: string) {
  const res = await app.inject({
    method: 'POST',
    url: `/scheduler/${verb}`,
    payload,
    headers: { 'content-type': 'application/json' },
  });
  return `${res.statusCode} ${res.body}`;
}

/** The body with the list as plain names (read from the bytes), and the same with its first name escaped. */
function bodies(names: string[], mig: string): { plain: string; escaped: string } {
  const head = `{"Pod":${JSON.stringify(pod('p', { mig: { [mig]: 1 } }))},"Nodes":null,"NodeNames":`;
  const plain = `${head}${JSON.stringify(names)}}`;
  // \u escapes of the first name's characters: JSON.parse reads the same list, the byte reader none.
  const first = names[0] ?? '';
  const esc = [...first].map((ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, '0')}`).join('');
  const rest = names.slice(1).map((n) => JSON.stringify(n));
  const escaped = `${head}[${[`"${esc}"`, ...rest].join(',')}]}`;
  return { plain, escaped };
}

describe('names from the bytes answer as names parsed', () => {
  it('for any list of known, unknown, repeated, odd and overlong names', async () => {
    const { app } = extender();
    const arbName = fc.oneof(
      fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'ghost', ''),
      fc.string({ maxLength: 6 }),
      fc.constant('x'.repeat(MAX_NAME_LENGTH + 1)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbName, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('nvidia.com/mig-1g.5gb', 'nvidia.com/mig-3g.20gb'),
        async (names, mig) => {
          const { plain, escaped } = bodies(names, mig);
          for (const verb of ['filter', 'prioritize']) {
            const expected = await answer(app, verb, escaped);
            // Three times: the list is new, then seen again (its answer is kept), then answered from that.
            for (let k = 0; k < 3; k++) expect(await answer(app, verb, plain)).toBe(expected);
          }
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it('a node that joins or leaves after a list was seen is looked up again', async () => {
    const { app, cache } = extender();
    const { plain } = bodies(['n0', 'late', 'n2'], 'nvidia.com/mig-1g.5gb');
    await answer(app, 'filter', plain);
    // Seen twice: its answer and the slots of its names are kept.
    const before = JSON.parse((await answer(app, 'filter', plain)).slice(4));
    expect(before.FailedNodes.late).toBe('node not in the smartmig extender cache yet');
    cache.upsertNode(node('late'));
    cache.deleteNode('n2');
    const after = JSON.parse((await answer(app, 'filter', plain)).slice(4));
    expect(after.NodeNames).toEqual(['late']);
    expect(after.FailedNodes.n2).toBe('node not in the smartmig extender cache yet');
    expect(after.FailedNodes.late).toBeUndefined();
  });

  it('a pod landing on a node changes the kept filter answer', async () => {
    const { app, cache } = extender();
    const { plain } = bodies(['n4'], 'nvidia.com/mig-1g.5gb');
    for (let k = 0; k < 2; k++)
      expect(JSON.parse((await answer(app, 'filter', plain)).slice(4)).NodeNames).toEqual(['n4']);
    cache.upsertPod(pod('a', { nodeName: 'n4' }), minutes(1));
    expect(JSON.parse((await answer(app, 'filter', plain)).slice(4)).NodeNames).toEqual([]);
  });

  it('with NodeNames twice, uses the last (as JSON.parse does), not the one read from the bytes', async () => {
    const { app } = extender();
    const p = JSON.stringify(pod('p'));
    const res = await answer(app, 'prioritize', `{"Pod":${p},"NodeNames":["n4"],"NodeNames":["n1","n2"]}`);
    expect(JSON.parse(res.slice(4)).map((h: { Host: string }) => h.Host)).toEqual(['n1', 'n2']);
  });

  it('the parsed body holds an empty NodeNames, the names come from the bytes', async () => {
    const { app } = extender();
    let seen: unknown;
    app.addHook('preHandler', async (req) => {
      seen = { body: (req.body as { NodeNames: unknown }).NodeNames, list: sentNodeNames(req.body as object)?.count };
    });
    await answer(app, 'filter', bodies(['n0', 'n1'], 'nvidia.com/mig-1g.5gb').plain);
    expect(seen).toEqual({ body: [], list: 2 });
  });
});
