// Lint rules that keep units small and async code honest (see docs/adr/0001-code-style.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (docs/architecture.md): policy ← api ← libraries ← adapters ← cli. A folder imports only from
// layers below it, and no adapter imports another.
const LIBRARIES = ['kube', 'model-store', 'dra'];
const ADAPTERS = ['extender', 'operator', 'fake-gpu'];
const layer = (dir, above) => ({
  group: above.map((d) => `**/${d}/**`),
  message: `${dir} may not import ${above.join(', ')} (docs/architecture.md); move what both need down a layer.`,
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.local/', 'coverage/', 'reports/', 'policy/models/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['error', 25],
      'max-depth': ['error', 4],
      'max-params': ['error', 6],
      'no-restricted-properties': 'off',
    },
  },
  {
    // The decision core never reads the clock or a global random generator (docs/adr/0002-determinism.md).
    files: ['policy/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'policy/ takes time as a parameter.' },
        { object: 'Math', property: 'random', message: 'policy/ takes a seeded Rng (policy/random.ts).' },
        { object: 'performance', property: 'now', message: 'policy/ takes time as a parameter.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:fs', 'fs', 'node:http', 'fastify', '@kubernetes/*'], message: 'policy/ is free of I/O.' },
            layer('policy/', ['api', ...LIBRARIES, ...ADAPTERS, 'cli']),
          ],
        },
      ],
    },
  },
  ...[
    { dir: 'api', above: [...LIBRARIES, ...ADAPTERS, 'cli'] },
    ...LIBRARIES.map((dir) => ({ dir, above: [...ADAPTERS, 'cli'] })),
    ...ADAPTERS.map((dir) => ({ dir, above: [...ADAPTERS.filter((a) => a !== dir), 'cli'] })),
  ].map(({ dir, above }) => ({
    files: [`${dir}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer(`${dir}/`, above)] }] },
  })),
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
