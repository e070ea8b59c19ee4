import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../evidence/canonical-json';
import type { PackageContent } from './package-manifest';

/**
 * A CycloneDX 1.5 SBOM of a package's items (SUP-01): one `file` component per item, named
 * by its path, with its SHA-256 and its Core10-10 content type as a property. Written by
 * hand from the contents list: the package has no software dependencies of its own to list.
 */
export function packageSbom({
  tenantId,
  created,
  contents,
}: {
  tenantId: string;
  created: string;
  contents: readonly PackageContent[];
}): JsonObject {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: created,
      component: { type: 'data', name: `ecs-tenant-export:${tenantId}`, 'bom-ref': 'package' },
    },
    components: contents.map((item) => ({
      type: 'file',
      'bom-ref': item.path,
      name: item.path,
      hashes: [{ alg: 'SHA-256', content: item.integrity_hash.slice('sha256:'.length) }],
      properties: [{ name: 'ecs:content_type', value: item.type }],
    })),
  };
}
