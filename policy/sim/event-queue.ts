// A binary min-heap of events ordered by (time, priority, sequence number), so that events at equal times
// never depend on heap order (a seed must give the same run).

export interface Timed {
  readonly time: number;
  readonly priority: number;
}

interface Entry<T> {
  readonly time: number;
  readonly priority: number;
  readonly seq: number;
  readonly value: T;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, priority: number, value: T): void {
    const e: Entry<T> = { time, priority, seq: this.seq++, value };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p] as Entry<T>)) break;
      h[i] = h[p] as Entry<T>;
      i = p;
    }
    h[i] = e;
  }

  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  pop(): { time: number; value: T } | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop() as Entry<T>;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r] as Entry<T>, h[l] as Entry<T>) ? r : l;
        if (!before(h[c] as Entry<T>, last)) break;
        h[i] = h[c] as Entry<T>;
        i = c;
      }
      h[i] = last;
    }
    return { time: top.time, value: top.value };
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return (
    a.time < b.time || (a.time === b.time && (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)))
  );
}
