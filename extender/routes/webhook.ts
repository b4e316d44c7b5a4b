// The mutating admission webhook (AdmissionReview v1). A pod with smartmig.io/profiles gets the slice the
// placement heuristic picks for the cluster as it is now; a pod with an invalid smartmig.io annotation is
// rejected with the reason. Everything else is allowed untouched.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import { pickProfile } from '../../policy/placement/node-score.js';
import type { ExtenderContext } from '../context.js';
import { intentDemand, scoreOptions } from '../context.js';
import { ExtenderError } from '../errors.js';
import { podIntent, resourceOfProfile } from '../kube.js';
import { moldPatch } from '../mold.js';
import {
  AdmissionReviewSchema,
  PodSchema,
  type AdmissionResponse,
  type AdmissionReview,
  type Pod,
} from '../schemas.js';

const podCheck = TypeCompiler.Compile(PodSchema);

function review(response: AdmissionResponse) {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

function asPod(object: unknown): Pod {
  if (podCheck.Check(object)) return object;
  const first = podCheck.Errors(object).First();
  const where = first?.path ? `request.object${first.path.replaceAll('/', '.')}` : 'request.object';
  throw new ExtenderError('SMARTMIG_BAD_OBJECT', `${where}: ${first?.message ?? 'is not a Pod'}`);
}

export async function webhookRoutes(app: FastifyInstance, ctx: ExtenderContext): Promise<void> {
  app.post('/mutate', { schema: { body: AdmissionReviewSchema }, config: { verb: 'mutate' } }, async (req) => {
    const { request } = req.body as AdmissionReview;
    const uid = request.uid;
    const allow = (outcome: 'allowed' | 'patched', extra: Partial<AdmissionResponse> = {}) => {
      ctx.metrics.decisions.inc({ verb: 'mutate', outcome });
      return review({ uid, allowed: true, ...extra });
    };
    if (request.kind?.kind !== 'Pod' || request.operation !== 'CREATE' || !request.object) return allow('allowed');
    const pod = asPod(request.object);
    const now = ctx.clock();
    const { intent, issues } = podIntent(pod, ctx.book, now);
    if (issues.length > 0) {
      ctx.metrics.decisions.inc({ verb: 'mutate', outcome: 'denied' });
      const message = issues.map((i) => `${i.annotation}: ${i.message}`).join('; ');
      return review({ uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } });
    }
    if (!intent.profiles) return allow('allowed');
    const choice = pickProfile(
      intent.profiles,
      intentDemand(intent),
      ctx.cache.allNodeStates(),
      scoreOptions(ctx, now),
    );
    const resource = choice && resourceOfProfile(choice.profile);
    if (!choice || !resource) return allow('allowed'); // unreachable: podIntent accepts known profiles only
    const patch = moldPatch(pod, resource);
    req.log.info(
      {
        pod: `${request.namespace ?? ''}/${pod.metadata.name ?? pod.metadata.generateName ?? ''}`,
        profile: choice.profile,
        why: choice.why,
      },
      'moldable pod',
    );
    if (patch.length === 0) return allow('allowed');
    return allow('patched', { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  });
}
