// Liveness, readiness (informers synced) and the Prometheus endpoint.
import type { FastifyInstance } from 'fastify';
import type { ExtenderContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: ExtenderContext): Promise<void> {
  app.get('/healthz', async () => 'ok\n');
  app.get('/readyz', async (_req, reply) => {
    const ready = ctx.ready();
    return reply.code(ready ? 200 : 503).send({ ready, nodes: ctx.cache.nodeCount, pods: ctx.cache.podCount });
  });
  app.get('/metrics', async (_req, reply) => {
    ctx.metrics.cacheObjects.set({ kind: 'nodes' }, ctx.cache.nodeCount);
    ctx.metrics.cacheObjects.set({ kind: 'pods' }, ctx.cache.podCount);
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
