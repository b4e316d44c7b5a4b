import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../operator/metrics.js';

describe('operator metrics', () => {
  it('export every repartition result at 0 from the start, so the first change shows in a rate', async () => {
    const text = await createMetrics().registry.metrics();
    for (const result of ['success', 'failed', 'timeout'])
      expect(text).toContain(`smartmig_repartitions_total{result="${result}"} 0`);
  });
});
