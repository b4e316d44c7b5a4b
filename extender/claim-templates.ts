// Where the webhook puts the ResourceClaimTemplates of DRA moldable pods (extender/dra-mold.ts). A mutating
// webhook's patch can only change the pod, so the template is created through the API before the patch is
// returned; its name is the hash of its spec, so an existing one of the same name is reused. A dry run creates
// nothing (the webhook's sideEffects: NoneOnDryRun).
import { ApiException, type ResourceV1Api, type V1ResourceClaimTemplate } from '@kubernetes/client-node';
import { TEMPLATE_HASH_ANNOTATION } from '../dra/claim-templates.js';
import { apiMessage } from './binder.js';

export interface ClaimTemplates {
  /** Makes sure `template` exists in its namespace; throws with a message for the pod's author otherwise. */
  ensure(template: V1ResourceClaimTemplate, dryRun: boolean): Promise<'created' | 'reused' | 'dry-run'>;
}

export class KubeClaimTemplates implements ClaimTemplates {
  constructor(private readonly api: ResourceV1Api) {}

  async ensure(template: V1ResourceClaimTemplate, dryRun: boolean): Promise<'created' | 'reused' | 'dry-run'> {
    const namespace = template.metadata?.namespace ?? '';
    const name = template.metadata?.name ?? '';
    const hash = template.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION];
    try {
      await this.api.createNamespacedResourceClaimTemplate({
        namespace,
        body: template,
        ...(dryRun ? { dryRun: 'All' } : {}),
      });
      return dryRun ? 'dry-run' : 'created';
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) {
        throw new Error(`cannot create ResourceClaimTemplate ${namespace}/${name}: ${apiMessage(err)}`, {
          cause: err,
        });
      }
    }
    // 409: the same name exists. Ours carries the same spec hash; anything else is not reused.
    let existing: V1ResourceClaimTemplate;
    try {
      existing = await this.api.readNamespacedResourceClaimTemplate({ name, namespace });
    } catch (err) {
      throw new Error(`cannot read ResourceClaimTemplate ${namespace}/${name}: ${apiMessage(err)}`, { cause: err });
    }
    if (existing.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION] !== hash) {
      throw new Error(`ResourceClaimTemplate ${namespace}/${name} exists and is not smartmig's (another spec hash)`);
    }
    return dryRun ? 'dry-run' : 'reused';
  }
}
