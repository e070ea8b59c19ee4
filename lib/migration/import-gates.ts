/**
 * The target-side gates of an import (Core10-10 "Import process"): can this deployment
 * enforce the tenant's jurisdiction, classification ceiling, policy baseline and authority
 * binding, and does nothing of the tenant clash with what it holds already. Pure checks over
 * the package's facts and what the target answers (`ImportTarget`).
 */
import { classificationAtMost, isClassification } from '../domain/classification';
import { isJurisdiction, jurisdictionWithin } from '../domain/jurisdiction';
import { canonicalJson, sha256Digest } from '../evidence/canonical-json';
import type { ImportedFacts } from './import-facts';
import type { ImportGate, ImportGateName } from './import-report';
import { RESOURCE_NAME, WORKLOAD_ID } from '../domain/identifiers';

/** What the gates ask of the target deployment. */
export interface ImportTarget {
  /** Jurisdictions served (`MIGRATION_JURISDICTIONS`); undefined: any. */
  servedJurisdictions: string[] | undefined;
  /** The policy snapshot with this id, if the target holds it, and whether it is its baseline's current one. */
  policySnapshot(id: string): Promise<{ baseline: string; current: boolean } | null>;
  /** The newest version of the authority binding with this id on the target. */
  authorityBinding(id: string): Promise<{ snapshotId: string; validFrom: Date; validUntil: Date } | null>;
  /** Which of these ids the target holds already. */
  existing(ids: { tenant: string; buckets: string[]; workloads: string[]; versions: string[] }): Promise<{
    tenant: boolean;
    buckets: string[];
    workloads: string[];
    versions: string[];
  }>;
}

const gate = (name: ImportGateName, failures: string[], passed: string): ImportGate => ({
  gate: name,
  result: failures.length === 0 ? 'pass' : 'fail',
  reason:
    failures.length === 0 ? passed : failures.slice(0, 10).join('; ') + (failures.length > 10 ? ` (and ${failures.length - 10} more)` : ''),
});

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Every governed thing of the package with its jurisdiction and classification. */
function governed(facts: ImportedFacts): Array<{ what: string; jurisdiction?: string; classification?: string }> {
  const items: Array<{ what: string; jurisdiction?: string; classification?: string }> = [];
  const add = (what: string, jurisdiction: unknown, classification: unknown) =>
    items.push({ what, jurisdiction: text(jurisdiction), classification: text(classification) });
  add(`tenant ${facts.manifest.tenant_id}`, facts.tenant?.jurisdiction, facts.tenant?.classification_ceiling);
  for (const bucket of facts.buckets) add(`bucket ${String(bucket.name)}`, bucket.jurisdiction, bucket.default_classification);
  for (const workload of facts.workloads) add(`workload ${String(workload.id)}`, workload.jurisdiction, workload.classification);
  // A delete marker holds no data and carries no governance values of its own.
  for (const item of facts.manifest.contents)
    if (item.type === 'data_snapshot' && item.governance_metadata?.delete_marker !== true)
      add(`object ${item.path}`, item.governance_metadata?.jurisdiction, item.governance_metadata?.classification);
  return items;
}

function jurisdictionGate(facts: ImportedFacts, served: string[] | undefined): ImportGate {
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const item of governed(facts)) {
    const code = item.jurisdiction;
    if (code === undefined || !isJurisdiction(code)) failures.push(`${item.what} has no valid jurisdiction`);
    else if (served && !served.some((outer) => jurisdictionWithin(code, outer)))
      failures.push(`${item.what} is bound to ${code}, which this deployment does not serve (${served.join(', ')})`);
    else seen.add(code);
  }
  return gate('jurisdiction', failures, `${[...seen].sort().join(', ')} served (${served ? served.join(', ') : 'any jurisdiction'})`);
}

function classificationGate(facts: ImportedFacts): ImportGate {
  const ceiling = text(facts.tenant?.classification_ceiling);
  if (ceiling === undefined || !isClassification(ceiling))
    return gate('classification', [`the tenant's ceiling ${String(ceiling)} is not a level this deployment knows`], '');
  const failures: string[] = [];
  for (const item of governed(facts).slice(1)) {
    if (item.classification === undefined) continue;
    if (!isClassification(item.classification)) failures.push(`${item.what}: unknown classification ${item.classification}`);
    else if (!classificationAtMost(item.classification, ceiling))
      failures.push(`${item.what} is ${item.classification}, above the ceiling ${ceiling}`);
  }
  return gate('classification', failures, `ceiling ${ceiling} enforceable; every item at or below it`);
}

async function policyGate(facts: ImportedFacts, target: ImportTarget): Promise<ImportGate> {
  const id = facts.manifest.policy_snapshot_id;
  const baseline = text(facts.tenant?.policy_baseline);
  if (!id || !facts.policySnapshot) return gate('policy_baseline', ['the package holds no policy baseline snapshot'], '');
  if (`polsnap:${sha256Digest(canonicalJson(facts.policySnapshot))}` !== id)
    return gate('policy_baseline', [`the package's policy snapshot does not hash to ${id}`], '');
  const known = await target.policySnapshot(id);
  if (!known) return gate('policy_baseline', [`this deployment does not hold policy snapshot ${id} (baseline ${String(baseline)})`], '');
  if (known.baseline !== baseline)
    return gate('policy_baseline', [`snapshot ${id} is of baseline ${known.baseline}, not ${String(baseline)}`], '');
  return gate(
    'policy_baseline',
    [],
    `snapshot ${id} of ${baseline} held${known.current ? ' (current)' : ', not current: the baseline has a newer snapshot here'}`,
  );
}

async function authorityGate(facts: ImportedFacts, target: ImportTarget, now: Date): Promise<ImportGate> {
  const id = facts.manifest.authority_snapshot_id;
  const binding = text(facts.tenant?.authority_binding);
  if (!id || !facts.authoritySnapshot || binding === undefined)
    return gate('authority_binding', ['the package holds no authority binding snapshot'], '');
  if (`authsnap:${sha256Digest(canonicalJson(facts.authoritySnapshot))}` !== id || facts.authoritySnapshot.id !== binding)
    return gate('authority_binding', [`the package's authority snapshot is not ${id} of binding ${binding}`], '');
  const here = await target.authorityBinding(binding);
  if (!here) return gate('authority_binding', [`this deployment has no authority binding ${binding}`], '');
  if (now < here.validFrom || now >= here.validUntil)
    return gate(
      'authority_binding',
      [`authority binding ${binding} is not valid here now (${here.validFrom.toISOString()} to ${here.validUntil.toISOString()})`],
      '',
    );
  const same = here.snapshotId === id ? 'the same version as the source' : `version ${here.snapshotId} here, ${id} at the source`;
  return gate('authority_binding', [], `binding ${binding} known and valid until ${here.validUntil.toISOString()} (${same})`);
}

async function clashGate(facts: ImportedFacts, target: ImportTarget): Promise<ImportGate> {
  const versions = facts.manifest.contents.flatMap((item) => {
    const version = item.type === 'data_snapshot' ? text(item.governance_metadata?.version_id) : undefined;
    return version ? [version] : [];
  });
  const ids = {
    tenant: facts.manifest.tenant_id,
    buckets: facts.buckets.map((bucket) => String(bucket.name)),
    workloads: facts.workloads.map((workload) => String(workload.id)),
    versions,
  };
  // Ids are made here as they are named: each must be one this deployment could have made itself.
  const malformed = [
    ...(typeof ids.tenant === 'string' && RESOURCE_NAME.test(ids.tenant)
      ? []
      : [`tenant id ${JSON.stringify(ids.tenant)} is not well-formed`]),
    ...(facts.tenant?.id === ids.tenant
      ? []
      : [`tenant.json names ${JSON.stringify(facts.tenant?.id)}, the manifest ${JSON.stringify(ids.tenant)}`]),
    ...ids.buckets.filter((name) => !RESOURCE_NAME.test(name)).map((name) => `bucket name ${JSON.stringify(name)} is not well-formed`),
    ...ids.workloads.filter((id) => !WORKLOAD_ID.test(id)).map((id) => `workload id ${JSON.stringify(id)} is not well-formed`),
  ];
  if (malformed.length > 0) return gate('id_clash', malformed, '');
  const found = await target.existing(ids);
  const failures = [
    ...(found.tenant ? [`tenant ${ids.tenant} exists`] : []),
    ...found.buckets.map((name) => `bucket ${name} exists`),
    ...found.workloads.map((id) => `workload ${id} exists`),
    ...found.versions.map((id) => `object version ${id} exists`),
  ];
  return gate(
    'id_clash',
    failures,
    `tenant ${ids.tenant}, ${ids.buckets.length} buckets, ${ids.workloads.length} workloads and ${versions.length} object versions are new here`,
  );
}

/** The target gates, in report order. */
export async function targetGates(facts: ImportedFacts, target: ImportTarget, now = new Date()): Promise<ImportGate[]> {
  return [
    jurisdictionGate(facts, target.servedJurisdictions),
    classificationGate(facts),
    await policyGate(facts, target),
    await authorityGate(facts, target, now),
    await clashGate(facts, target),
  ];
}

/** The same gates, failed, when the package could not be read far enough to check them. */
export function uncheckedGates(reason: string): ImportGate[] {
  return (['jurisdiction', 'classification', 'policy_baseline', 'authority_binding', 'id_clash'] as const).map((name) => ({
    gate: name,
    result: 'fail',
    reason: `not checked: ${reason}`,
  }));
}
