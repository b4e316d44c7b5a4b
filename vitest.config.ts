import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Cluster tests share one local control plane; run files one at a time to keep 2 cores usable.
    fileParallelism: false,
  },
});
