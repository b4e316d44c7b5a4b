import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Cluster tests share one local control plane; run files one at a time to keep 2 cores usable.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        // Integration and end-to-end tests get a real control plane (docs/control-plane.md); the global
        // setup runs only when a file of this project is selected, so `vitest run test/unit` needs none.
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
