// The extender as an app factory: buildExtender(deps) wires routes onto a fastify instance and never
// listens; main.ts listens, tests call inject(). Routes: /scheduler/{filter,prioritize,bind}, /mutate,
// /healthz, /readyz, /metrics.
import { STATUS_CODES } from 'node:http';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { ProfileBook } from '../policy/workload/job.js';
import type { Binder } from './binder.js';
import type { ClusterCache } from './cache.js';
import type { ClaimTemplates } from './claim-templates.js';
import { resolveConfig, type ExtenderConfig } from './config.js';
import type { ExtenderContext } from './context.js';
import { ExtenderError, type ErrorBody } from './errors.js';
import { registerJsonBody } from './json-body.js';
import { RequestGate } from './request-gate.js';
import { createMetrics, type ExtenderMetrics, type Verb } from './metrics.js';
import { healthRoutes } from './routes/health.js';
import { verbRoutes } from './routes/verbs.js';
import { webhookRoutes } from './routes/webhook.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    verb?: Verb;
  }
}

export interface ExtenderDeps {
  readonly cache: ClusterCache;
  readonly binder: Binder;
  readonly config?: Partial<ExtenderConfig>;
  readonly book?: ProfileBook;
  /** Epoch milliseconds; Date.now when absent. */
  readonly clock?: () => number;
  readonly metrics?: ExtenderMetrics;
  /** Readiness; always ready when absent (a cache filled by hand). */
  readonly ready?: () => boolean;
  /** ResourceClaimTemplates of DRA moldable pods (the webhook); such pods are refused without it. */
  readonly claimTemplates?: ClaimTemplates;
  /** A pino logger; without one the app logs nothing. */
  readonly logger?: FastifyBaseLogger;
  /** TLS key and certificate (PEM) when serving HTTPS, as the API server requires of webhooks; a client
   * CA with requestCert for mutual TLS (tls.ts serverTlsOptions). */
  readonly https?: {
    readonly key: string | Buffer;
    readonly cert: string | Buffer;
    readonly ca?: string | Buffer;
    readonly requestCert?: boolean;
    readonly rejectUnauthorized?: boolean;
  };
}

export function buildExtender(deps: ExtenderDeps): FastifyInstance {
  const config = resolveConfig(deps.config);
  const ctx: ExtenderContext = {
    cache: deps.cache,
    binder: deps.binder,
    config,
    book: deps.book ?? new ProfileBook(),
    clock: deps.clock ?? Date.now,
    metrics: deps.metrics ?? createMetrics(),
    ready: deps.ready ?? (() => true),
    claimTemplates: deps.claimTemplates,
  };
  // Node checks the header and request timeouts every connectionsCheckingInterval (30 s by default).
  const serverOptions = { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 };
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    ...(deps.https ? { https: { ...deps.https, ...serverOptions } } : { http: serverOptions }),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    bodyLimit: config.bodyLimit,
    // Per-request lines at 2,000 requests/s would cost more than the decisions; verbs log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    // Strict validation: no type coercion, and bodies are never rewritten (Node objects are passed back).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  }) as unknown as FastifyInstance;
  registerJsonBody(app, config);
  const gate = new RequestGate(config);
  app.addHook('onRequest', (req, reply, done) => {
    const verb = req.routeOptions.config.verb;
    if (!verb) {
      done();
      return;
    }
    // Mutual TLS: only a client whose certificate chains to the client CA may schedule (the API server,
    // which calls /mutate on the same port, usually has none).
    if (deps.https?.requestCert && verb !== 'mutate' && !(req.raw.socket as TLSSocket).authorized) {
      ctx.metrics.decisions.inc({ verb, outcome: 'unauthenticated' });
      const why = (req.raw.socket as TLSSocket).authorizationError;
      void reply.code(403).send({
        statusCode: 403,
        code: 'SMARTMIG_CLIENT_CERT_REQUIRED',
        error: 'Forbidden',
        message: `/scheduler/* needs a client certificate signed by the extender's client CA (${String(why ?? 'none sent')})`,
      });
      return;
    }
    const declared = Number(req.headers['content-length']);
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? declared : chunked ? config.bodyLimit : 0;
    const refusal = gate.enter(req, bytes);
    if (refusal) {
      ctx.metrics.decisions.inc({ verb, outcome: 'overloaded' });
      req.log.warn({ verb, reason: refusal }, 'request refused: extender busy');
      // Close the connection: its body, if any, is not read.
      void reply
        .code(503)
        .header('retry-after', '1')
        .header('connection', 'close')
        .send({ statusCode: 503, code: 'SMARTMIG_OVERLOADED', error: 'Service Unavailable', message: refusal });
      return;
    }
    // 'close' comes after the response or when the client goes away, whichever is first.
    reply.raw.once('close', () => gate.leave(req));
    done();
  });
  app.setErrorHandler((err: FastifyError | ExtenderError, req, reply) => {
    const { statusCode, body } = errorReply(err, config, req.headers['content-type']);
    const verb = req.routeOptions.config.verb;
    if (statusCode >= 500) {
      req.log.error({ err }, 'request failed');
    } else {
      ctx.metrics.badRequests.inc({ code: body.code });
      if (verb) ctx.metrics.decisions.inc({ verb, outcome: 'bad_request' });
      req.log.debug({ code: body.code, message: body.message }, 'bad request');
    }
    return reply.code(statusCode).send(body);
  });
  app.addHook('onResponse', async (req, reply) => {
    const verb = req.routeOptions.config.verb;
    if (verb) ctx.metrics.requestDuration.observe({ verb, code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  void app.register(
    (scoped, _opts, done) => {
      verbRoutes(scoped, ctx).then(() => done(), done);
    },
    { prefix: '/scheduler' },
  );
  // The second extender entry of the scheduler's configuration (docs/extender.md, "DRA nodes"): it has no
  // managedResources, so kube-scheduler sends it every pod; only claim pods get a demand there.
  void app.register(
    (scoped, _opts, done) => {
      verbRoutes(scoped, { ...ctx, claimsOnly: true }).then(() => done(), done);
    },
    { prefix: '/scheduler/claims' },
  );
  void app.register((scoped, _opts, done) => {
    Promise.all([webhookRoutes(scoped, ctx), healthRoutes(scoped, ctx)]).then(() => done(), done);
  });
  return app;
}

/**
 * Client errors keep their 4xx status and get a stable code; an oversized body is a 400 (issue 4). A body
 * without a Content-Type, or with one other than JSON or text, stays a 415 (kube-scheduler and the API
 * server always send application/json; guessing would hide a misconfigured client) with a message that
 * says what was sent and what to send.
 */
export function errorReply(
  err: FastifyError | ExtenderError,
  config: ExtenderConfig,
  contentType?: string,
): { statusCode: number; body: ErrorBody } {
  let statusCode =
    err instanceof ExtenderError
      ? err.statusCode
      : 'validation' in err && err.validation
        ? 400
        : (err.statusCode ?? 500);
  let code = err.code || 'SMARTMIG_INTERNAL';
  let message = err.message;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    statusCode = 400;
    code = 'SMARTMIG_BODY_TOO_LARGE';
    message = `request body is larger than the limit of ${config.bodyLimit} bytes (raise it with --body-limit)`;
  } else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    message =
      contentType === undefined || contentType.trim() === ''
        ? 'request has a body but no Content-Type header; send Content-Type: application/json'
        : `Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not supported; send application/json`;
  } else if ('validation' in err && err.validation) {
    code = 'SMARTMIG_INVALID_BODY';
  } else if (statusCode >= 500) {
    message = 'internal error (logged)';
  }
  if (statusCode < 400 || statusCode > 599) statusCode = 500;
  return { statusCode, body: { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message } };
}
