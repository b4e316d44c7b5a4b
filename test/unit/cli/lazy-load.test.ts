// Top-level help must not import the command modules (they pull in the simulator, the Kubernetes client and
// more: seconds of start-up); a command's module loads when it runs or its own help is asked.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.js';

const loaded: string[] = vi.hoisted(() => []);

// Each factory records that the module was imported, then hands over the real one.
vi.mock('../../../cli/commands/layouts.js', async (real) => (loaded.push('layouts'), real()));
vi.mock('../../../cli/commands/bounds.js', async (real) => (loaded.push('bounds'), real()));
vi.mock('../../../cli/commands/simulate.js', async (real) => (loaded.push('simulate'), real()));
vi.mock('../../../cli/commands/compare.js', async (real) => (loaded.push('compare'), real()));
vi.mock('../../../cli/commands/demo.js', async (real) => (loaded.push('demo'), real()));
vi.mock('../../../cli/commands/fake-gpu.js', async (real) => (loaded.push('fake-gpu'), real()));
vi.mock('../../../cli/commands/extender.js', async (real) => (loaded.push('extender'), real()));
vi.mock('../../../cli/commands/operator.js', async (real) => (loaded.push('operator'), real()));

describe('command modules load lazily', () => {
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  // The cases run in order and share the module cache: each adds what it loads to `loaded`.
  it('smartmig --help, --version and a bare smartmig load none', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(await main(['--version'])).toBe(0);
    expect(await main([])).toBe(2);
    expect(await main(['nope'])).toBe(2);
    expect(loaded).toEqual([]);
  });

  it('smartmig layouts --help loads layouts only', async () => {
    expect(await main(['layouts', '--help'])).toBe(0);
    expect(loaded).toEqual(['layouts']);
  });

  it('smartmig help operator loads operator', async () => {
    expect(await main(['help', 'operator'])).toBe(0);
    expect(loaded).toEqual(['layouts', 'operator']);
  });
});
