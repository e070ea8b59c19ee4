/**
 * Builds a tenant export package (Core10-10) from a source into a writable stream, for one
 * WS6 scenario: `full` (workload definitions, bucket configurations, every object version's
 * bytes, the snapshots, the evidence bundle), `data-only` (no workloads) or `evidence-only`
 * (the tenant's facts, the snapshots and the evidence bundle). Items that cannot move are
 * declared in the DEP manifest with an alternative and reported to `onRefused` (evidence).
 */
import type { Writable } from 'node:stream';
import type { BundleSigner } from '../bundle/plan-bundle';
import type { JsonObject } from '../evidence/canonical-json';
import { dependencyManifest } from './dependency-manifest';
import type { EvidenceBundleFile, RefusedItem, TenantExportSource } from './export-source';
import { PACKAGE_VERSION } from './package-manifest';
import type { MigrationScenario } from './package-manifest';
import { PackageWriter, jsonItem } from './package-writer';
import { packageSbom } from './sbom';

export interface ExportPackageInput {
  source: TenantExportSource;
  scenario: MigrationScenario;
  tenantId: string;
  sourceProvider: string;
  signer: BundleSigner;
  created: Date;
  /** Called once per item that cannot be exported, before the package is finished. */
  onRefused?: (item: RefusedItem) => Promise<void>;
}

export interface ExportedPackage {
  /** The exact `manifest.json`. */
  manifest: string;
  items: number;
  objectVersions: number;
  refused: RefusedItem[];
}

/** A VM's disks and vTPM state are not held by this service: only its definition can move. */
function vmRefusal(workload: JsonObject): RefusedItem {
  return {
    item: `workload:${String(workload.id)}`,
    reason_code: 'vm_state_not_portable',
    reason: 'the VM workload’s disk images and vTPM state are not held by this service',
    alternative: 'the workload definition is exported; re-provision its disks from the image reference on the target',
  };
}

const safeSegment = (text: string): string => encodeURIComponent(text).replace(/%/g, '_');

export async function exportPackage(input: ExportPackageInput, out: Writable): Promise<ExportedPackage> {
  const { source, scenario } = input;
  const writer = new PackageWriter(out);
  const refused: RefusedItem[] = [];
  const images = new Map<string, string[]>();
  let objectVersions = 0;
  let bundle: EvidenceBundleFile | undefined;
  try {
    bundle = await source.evidenceBundle();
    const state = await source.state();
    await writer.add(jsonItem('config', 'tenant.json', state.tenant));
    if (state.authority)
      await writer.add(
        jsonItem('authority_snapshot', 'snapshots/authority-binding.json', JSON.parse(state.authority.content) as JsonObject),
      );
    if (state.policy)
      await writer.add(jsonItem('policy_snapshot', 'snapshots/policy-baseline.json', JSON.parse(state.policy.content) as JsonObject));

    if (scenario === 'full') {
      for await (const page of source.workloads()) {
        for (const workload of page) {
          const governance = { jurisdiction: workload.jurisdiction ?? null, classification: workload.classification ?? null };
          await writer.add(jsonItem('workload_definition', `workloads/${safeSegment(String(workload.id))}.json`, workload, governance));
          const image = String(workload.image_ref);
          images.set(image, [...(images.get(image) ?? []), String(workload.id)]);
          if (workload.envelope_type === 'vm') refused.push(vmRefusal(workload));
        }
      }
    }
    if (scenario !== 'evidence-only') {
      for (const bucket of await source.buckets()) {
        const governance = { jurisdiction: bucket.jurisdiction ?? null, classification: bucket.default_classification ?? null };
        await writer.add(jsonItem('config', `buckets/${safeSegment(String(bucket.name))}.json`, bucket, governance));
      }
      for await (const page of source.objectVersions()) {
        for (const version of page) {
          const path = `objects/${safeSegment(version.bucket)}/${safeSegment(version.versionId)}`;
          const content = version.sha256 === null ? Buffer.alloc(0) : await source.openObject(version.sha256);
          const entry = await writer.add({
            type: 'data_snapshot',
            path,
            size: version.size,
            content,
            governance_metadata: version.governance,
          });
          // Bytes that no longer match what was stored are never exported as if they did.
          if (version.sha256 !== null && entry.integrity_hash !== `sha256:${version.sha256}`)
            throw new Error(
              `the stored bytes of ${version.bucket}/${version.key} (version ${version.versionId}) no longer hash to their recorded SHA-256`,
            );
          objectVersions += 1;
        }
      }
      refused.push(...(await source.nonPortableState()));
    }
    await writer.add({
      type: 'evidence_chain_segment',
      path: 'evidence/bundle.tar.gz',
      size: bundle.size,
      content: bundle.chunks(),
      governance_metadata: {
        evidence_profile_id: bundle.profileId,
        chain_id: bundle.chainId,
        from_sequence: 1,
        to_sequence: bundle.headSequence,
      },
    });
    for (const item of refused) await input.onRefused?.(item);
    await writer.add(
      jsonItem(
        'dependency_manifest',
        'dependencies.json',
        dependencyManifest({ state, scenario, images, refused, evidenceProfileId: bundle.profileId }),
      ),
    );
    const created = input.created.toISOString();
    await writer.add(jsonItem('sbom', 'sbom.cdx.json', packageSbom({ tenantId: input.tenantId, created, contents: writer.contents })));
    const manifest = await writer.finish(
      {
        version: PACKAGE_VERSION,
        created,
        source_provider: input.sourceProvider,
        tenant_id: input.tenantId,
        scenario,
        evidence_profile_id: bundle.profileId,
        hash_profile_id: bundle.hashProfileId,
        evidence_range: { chain_id: bundle.chainId, from_sequence: 1, to_sequence: bundle.headSequence },
        governance_metadata: { jurisdiction: state.tenant.jurisdiction, classification: state.tenant.classification_ceiling },
        authority_snapshot_id: state.authority?.snapshotId ?? null,
        policy_snapshot_id: state.policy?.snapshotId ?? null,
        refused_items: refused,
      },
      input.signer,
    );
    return { manifest, items: writer.contents.length, objectVersions, refused };
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    await bundle?.remove();
  }
}
