import type { JsonObject } from '../../lib/evidence/canonical-json';
import type { EvidenceEvent, EvidenceInput } from '../../lib/evidence/evidence-event';
import { buildEvent } from '../../lib/evidence/ledger';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import { writeBundle } from './bundle-writer/write-bundle';

/**
 * A migrated tenant's two chains, built with the ledger's own `buildEvent` (real hashes and
 * decision records), for bundles of the source and the target deployment.
 */
export interface BuiltChain {
  events: EvidenceEvent[];
  artifacts: Map<string, Uint8Array>;
}

const START = Date.UTC(2026, 2, 1);

export function buildChain(tenantId: string, inputs: Array<Omit<EvidenceInput, 'tenantId' | 'actor' | 'correlationId'>>): BuiltChain {
  const events: EvidenceEvent[] = [];
  const artifacts = new Map<string, Uint8Array>();
  let prevHash: string | undefined;
  inputs.forEach((input, index) => {
    const sequence = index + 1;
    const built = buildEvent(
      { tenantId, actor: 'admin-1', correlationId: `corr-${tenantId}-${sequence}`, ...input },
      {
        id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
        sequence,
        prevHash,
        occurredAt: new Date(START + sequence * 1000),
      },
    );
    prevHash = built.event.event_hash;
    events.push(built.event);
    artifacts.set(built.record.pointer, Buffer.from(built.record.text));
  });
  return { events, artifacts };
}

/** The source chain: `count` governed actions; with `complete`, a `migration.complete` after them. */
export function sourceChain(tenantId: string, count: number, { complete = false } = {}): BuiltChain {
  const inputs: Array<Omit<EvidenceInput, 'tenantId' | 'actor' | 'correlationId'>> = [];
  for (let i = 1; i <= count; i += 1)
    inputs.push({ eventType: 'workload.deploy', outcome: 'accepted', details: { workload_id: `wl-${i}` } });
  if (complete) inputs.push({ eventType: 'migration.complete', outcome: 'accepted', details: { export_id: 'mex-1' } });
  return buildChain(tenantId, inputs);
}

/** The fields of a `migration.import` event linking to `head` of a source chain. */
export function importDetails(head: EvidenceEvent, overrides: JsonObject = {}): JsonObject {
  return {
    import_id: 'mim-1',
    source_provider: 'provider-source',
    source_tenant_id: head.tenant_id,
    source_chain_id: head.chain_id,
    source_head_sequence: head.sequence,
    source_head_hash: head.event_hash,
    package_digest: `sha256:${'ab'.repeat(32)}`,
    ...overrides,
  };
}

/** The target chain: the given `migration.import` events (details), then `after` governed actions. */
export function targetChain(tenantId: string, imports: JsonObject[], after = 2): BuiltChain {
  const inputs: Array<Omit<EvidenceInput, 'tenantId' | 'actor' | 'correlationId'>> = imports.map((details) => ({
    eventType: 'migration.import',
    outcome: 'accepted',
    details,
  }));
  for (let i = 1; i <= after; i += 1)
    inputs.push({ eventType: 'workload.deploy', outcome: 'accepted', details: { workload_id: `wl-t${i}` } });
  return buildChain(tenantId, inputs);
}

export async function writeChainBundle(chain: BuiltChain, dir: string, signer: BundleSigner): Promise<void> {
  await writeBundle(
    {
      events: chain.events,
      artifacts: chain.artifacts,
      profileId: 'ecs-evidence-admissible',
      producer: { issuerId: 'provider-test', producerId: 'ecs-gateway' },
      createdAt: new Date('2026-03-02T00:00:00Z'),
      signer,
    },
    dir,
  );
}
