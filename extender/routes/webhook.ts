// The mutating admission webhook (AdmissionReview v1). A pod with smartmig.io/profiles gets the slice the
// placement heuristic picks for the cluster as it is now; a pod with an invalid smartmig.io annotation is
// rejected with the reason. A moldable pod with smartmig.io/allocation: dra gets a ResourceClaim from a template
// listing its profiles in order of preference instead (dra-mold.ts). Everything else is allowed untouched.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import { ALLOCATION_ANNOTATION } from '../../api/labels.js';
import { migClaimTemplate } from '../../dra/claim-templates.js';
import { pickProfile } from '../../policy/placement/node-score.js';
import type { ExtenderContext } from '../context.js';
import { intentDemand, scoreOptions } from '../context.js';
import { allocationMode, draMoldPatch, draMoldTarget, preferenceOrder } from '../dra-mold.js';
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

/** Why a pod that asks for DRA is refused, as the denial says it. */
const draIssue = (why: string): string => `${ALLOCATION_ANNOTATION}: dra: ${why}`;

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
    const deny = (message: string, code = 400) => {
      ctx.metrics.decisions.inc({ verb: 'mutate', outcome: 'denied' });
      const reason = code === 400 ? 'BadRequest' : 'InternalError';
      return review({ uid, allowed: false, status: { code, reason, message } });
    };
    const { intent, issues: intentIssues } = podIntent(pod, ctx.book, now);
    const allocation = allocationMode(pod);
    const issues = [...intentIssues, ...allocation.issues];
    if (issues.length > 0) return deny(issues.map((i) => `${i.annotation}: ${i.message}`).join('; '));
    if (!intent.profiles) return allow('allowed');
    const choice = pickProfile(
      intent.profiles,
      intentDemand(intent),
      ctx.cache.allNodeStates(),
      scoreOptions(ctx, now),
    );
    const resource = choice && resourceOfProfile(choice.profile);
    if (!choice || !resource) return allow('allowed'); // unreachable: podIntent accepts known profiles only
    const podName = `${request.namespace ?? ''}/${pod.metadata.name ?? pod.metadata.generateName ?? ''}`;
    if (allocation.mode === 'dra') {
      // DRA: a claim from a template whose firstAvailable lists the accepted profiles, the choice first.
      const target = draMoldTarget(pod);
      if ('issue' in target) return deny(draIssue(target.issue));
      const namespace = request.namespace ?? pod.metadata.namespace;
      if (!namespace) return deny(draIssue('the request names no namespace'));
      if (!ctx.claimTemplates) return deny(draIssue('this extender writes no claim templates'), 500);
      const order = preferenceOrder(choice.profile, intent.profiles);
      const template = migClaimTemplate(namespace, order, target.count);
      try {
        await ctx.claimTemplates.ensure(template, request.dryRun === true);
      } catch (err) {
        return deny(draIssue(err instanceof Error ? err.message : String(err)), 500);
      }
      const draPatch = draMoldPatch(pod, target, template.metadata?.name ?? '');
      req.log.info({ pod: podName, order, template: template.metadata?.name, why: choice.why }, 'moldable pod (DRA)');
      return allow('patched', {
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(draPatch)).toString('base64'),
      });
    }
    const patch = moldPatch(pod, resource);
    req.log.info({ pod: podName, profile: choice.profile, why: choice.why }, 'moldable pod');
    if (patch.length === 0) return allow('allowed');
    return allow('patched', { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  });
}
