import type { SourceEvent } from '../../../lib/bundle/bundle-source';
import type { Database } from '../../../lib/db/database';
import { sha256Digest } from '../../../lib/evidence/canonical-json';
import type { PlaneClient } from '../../../lib/subgraph/plane-client';

const SNAPSHOT_ID = /^(polsnap|authsnap):(sha256:[0-9a-f]{64})$/;
/** Distinct snapshots one export may list (they are few: one per policy or binding version). */
const MAX_SNAPSHOTS = 10_000;

export const ARTIFACT_POINTER_PREFIX = 'eosc://artifact/';

/**
 * The policy snapshots and authority binding versions the events of an export name
 * (`policy_snapshot_id`, `authority_snapshot_id`), collected batch by batch, then fetched
 * from their planes as content-addressed artifacts: the artifact of `polsnap:sha256:<hex>`
 * is the canonical JSON whose SHA-256 is `<hex>`, so a verifier can recompute every
 * snapshot id the bundle's events carry.
 */
export class SnapshotCollector {
  private readonly ids = new Set<string>();

  add(batch: readonly SourceEvent[]): void {
    for (const { event } of batch) {
      for (const id of [event.policy_snapshot_id, event.authority_snapshot_id]) {
        if (typeof id !== 'string' || !SNAPSHOT_ID.test(id) || this.ids.has(id)) continue;
        if (this.ids.size >= MAX_SNAPSHOTS) throw new Error(`the range names more than ${MAX_SNAPSHOTS} policy and authority snapshots`);
        this.ids.add(id);
      }
    }
  }

  /**
   * Fetches each snapshot's content, checks it against its id, stores it as an artifact
   * (append-only, content-addressed) and returns the manifest categories.
   */
  async artifacts({ db, planes, tenantId }: { db: Database; planes: PlaneClient; tenantId: string }): Promise<Record<string, string[]>> {
    const categories: Record<string, string[]> = { policy_snapshots: [], authority_bindings: [] };
    for (const id of [...this.ids].sort()) {
      const [, kind, digest] = SNAPSHOT_ID.exec(id)!;
      const content = await planes.snapshotContent(id);
      if (content === null) throw new Error(`${id} is unknown to the ${kind === 'polsnap' ? 'control' : 'identity'} plane`);
      if (sha256Digest(content) !== digest) throw new Error(`the content of ${id} does not hash to its id`);
      const pointer = `${ARTIFACT_POINTER_PREFIX}${digest}`;
      await db.prisma.evidenceArtifact.createMany({
        data: [{ pointer, tenantId, mediaType: 'application/json', content }],
        skipDuplicates: true,
      });
      categories[kind === 'polsnap' ? 'policy_snapshots' : 'authority_bindings']!.push(pointer);
    }
    return Object.fromEntries(Object.entries(categories).filter(([, refs]) => refs.length > 0));
  }
}
