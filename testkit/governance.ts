import { createHash } from 'node:crypto';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A complete, valid set of ws2 governance headers for `body`, with overrides (undefined drops a header). */
export function governance(body: Buffer, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    'x-eosc-jurisdiction': 'DE',
    'x-eosc-retention-ttl': 'P0D',
    'x-eosc-integrity': `sha256:${sha256(body)}`,
    'x-eosc-classification': 'internal',
    'x-eosc-evidence-pointer': 'eosc://evidence/123e4567',
    'x-eosc-data-product-id': 'dp-001',
    'x-eosc-usage-policy-snapshot-id': 'pol-001',
    'x-eosc-consent-token-ref': 'consent-123',
    'content-type': 'text/plain',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
