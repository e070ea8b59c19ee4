import type { JsonObject } from '../../../lib/evidence/canonical-json';
import type { EvidenceExport } from '../exports/export-store';
import type { BundleVerdict } from '../exports/verify-export';
import type { EvidenceExportResolverMap } from '../generated/resolvers-types';

/** Where the gateway serves a completed export's bundle. */
export const bundlePath = (id: string): string => `/v1/exports/${id}/bundle`;

function manifestOf(row: EvidenceExport): JsonObject | null {
  return row.manifest ? (JSON.parse(row.manifest) as JsonObject) : null;
}

export const EvidenceExportResolvers: EvidenceExportResolverMap = {
  evidenceProfileId: (row) => row.profileId,
  evidencePointer: (row) => row.requestEvidencePointer,
  manifest: manifestOf,
  kid: (row) => {
    const signatures = manifestOf(row)?.signatures;
    const first = Array.isArray(signatures) ? (signatures[0] as JsonObject | undefined) : undefined;
    return typeof first?.key_id === 'string' ? first.key_id : null;
  },
  bundlePath: (row) => (row.state === 'completed' ? bundlePath(row.id) : null),
  verification: (row) => (row.verification ? (JSON.parse(row.verification) as BundleVerdict) : null),
};
