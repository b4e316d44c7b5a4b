// Flag parsing shared by every subcommand: node's parseArgs in strict mode, with messages that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseFlags(argv: string[], options: FlagSpec, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? String(err));
  }
}

export function stringFlag(p: Parsed, name: string, fallback: string): string;
export function stringFlag(p: Parsed, name: string): string | undefined;
export function stringFlag(p: Parsed, name: string, fallback?: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : fallback;
}

export function numberFlag(
  p: Parsed,
  name: string,
  fallback: number,
  opts: { min?: number; max?: number; integer?: boolean } = {},
) {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const bad =
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const min = opts.min !== undefined ? ` ≥ ${opts.min}` : '';
    const max = opts.max !== undefined ? ` ≤ ${opts.max}` : '';
    throw new UsageError(`--${name}: expected ${kind}${min}${max}, got "${String(raw)}"`);
  }
  return n;
}

/** `1-5`, `3`, `1,4,9` or a mix (`1-3,7`) → a list of integers. */
export function parseIntList(flag: string, text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--${flag}: "${part}" is not a number or range like 1-5`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    // Above 2^53 `i++` stops changing i, so the loop below would never end.
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) {
      throw new UsageError(`--${flag}: "${part}" is outside the safe integer range`);
    }
    if (b < a) throw new UsageError(`--${flag}: range "${part}" runs backwards`);
    if (b - a > 10_000) throw new UsageError(`--${flag}: range "${part}" is too long`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag}: "${value}" is not one of ${allowed.join(', ')}`);
}

/** A duration flag such as `30s`, `15m` or `2h`, in minutes; `none` (where allowed) is Infinity. */
export function durationFlag(p: Parsed, name: string, fallbackMin: number, allowNone = false): number {
  const raw = p.values[name];
  if (raw === undefined) return fallbackMin;
  const text = String(raw).trim();
  if (allowNone && text === 'none') return Infinity;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
  if (!m)
    throw new UsageError(
      `--${name}: "${text}" is not a duration such as 30s, 15m or 2h${allowNone ? ' (or none)' : ''}`,
    );
  const n = Number(m[1]);
  return m[2] === 's' ? n / 60 : m[2] === 'h' ? n * 60 : n;
}
