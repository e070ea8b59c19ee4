import type { JsonObject } from '../evidence/canonical-json';
import type { RefusedItem, TenantState } from './export-source';
import type { MigrationScenario } from './package-manifest';

/**
 * The DEP manifest of a package: what the target must provide for the tenant to run there
 * (image registries the workloads pull from, the jurisdiction and classification ceiling it
 * must enforce, the policy baseline and authority binding, the evidence profile), and the
 * state that does not move with the package, each with its alternative.
 */
export function dependencyManifest({
  state,
  scenario,
  images,
  refused,
  evidenceProfileId,
}: {
  state: TenantState;
  scenario: MigrationScenario;
  images: ReadonlyMap<string, string[]>;
  refused: readonly RefusedItem[];
  evidenceProfileId: string;
}): JsonObject {
  const requires: JsonObject[] = [
    { kind: 'jurisdiction', value: state.tenant.jurisdiction, why: 'every object and workload of the tenant is bound to it' },
    { kind: 'classification_ceiling', value: state.tenant.classification_ceiling },
    { kind: 'evidence_profile', value: evidenceProfileId },
  ];
  if (state.policy) requires.push({ kind: 'policy_baseline', snapshot_id: state.policy.snapshotId, engine: 'cedar' });
  if (state.authority) requires.push({ kind: 'authority_binding', snapshot_id: state.authority.snapshotId });
  for (const [reference, workloads] of [...images].sort(([a], [b]) => a.localeCompare(b))) {
    requires.push({ kind: 'image_registry', reference, registry: reference.split('/')[0] ?? reference, workloads });
  }
  return {
    dep_manifest_version: '1.0',
    tenant_id: state.tenant.id,
    scenario,
    requires,
    non_portable: [...refused],
    not_included: notIncluded(scenario),
  };
}

function notIncluded(scenario: MigrationScenario): JsonObject[] {
  const always: JsonObject[] = [
    { item: 'api_keys_and_s3_credentials', reason: 'secrets are never exported', alternative: 'issue new credentials on the target' },
  ];
  if (scenario === 'full') return always;
  const data: JsonObject[] =
    scenario === 'evidence-only'
      ? [{ item: 'buckets_and_objects', reason: 'excluded by the evidence-only scenario', alternative: 'export data-only or full' }]
      : [];
  return [...always, { item: 'workloads', reason: `excluded by the ${scenario} scenario`, alternative: 'export full' }, ...data];
}
