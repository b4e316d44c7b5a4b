// Lint rules that keep units small and async code honest (see docs/adr/0001-code-style.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
