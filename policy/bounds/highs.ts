// The HiGHS solver (wasm), loaded once per process. The package ships CommonJS typings (types.d.ts with
// `export default`) beside an ES module build. Under NodeNext TypeScript reads a default import as the
// whole CommonJS module, so it types the loader as `.default.default`, while Node, tsx and vitest resolve
// the ES build whose default export is the loader itself. Accept either shape rather than trust one.
import * as highsModule from 'highs';

type Loader = typeof highsModule.default.default;
export type Highs = Awaited<ReturnType<Loader>>;

function loader(): Loader {
  const exported = (highsModule as unknown as { default: Loader | { default: Loader } }).default;
  return typeof exported === 'function' ? exported : exported.default;
}

let loading: Promise<Highs> | undefined;

/** Each solve still gets a fresh native instance; only the compiled module is shared. */
export function loadHighs(): Promise<Highs> {
  loading ??= loader()();
  return loading;
}
