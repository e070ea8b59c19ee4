/** The ws2 governance metadata headers every object write carries, keyed by the value they hold, in the order they are validated. */
export const GOVERNANCE_HEADERS = {
  jurisdiction: 'x-eosc-jurisdiction',
  retention: 'x-eosc-retention-ttl',
  integrity: 'x-eosc-integrity',
  classification: 'x-eosc-classification',
  evidencePointer: 'x-eosc-evidence-pointer',
  dataProductId: 'x-eosc-data-product-id',
  usagePolicySnapshotId: 'x-eosc-usage-policy-snapshot-id',
  consentTokenRef: 'x-eosc-consent-token-ref',
} as const;

export type GovernanceHeaderName = (typeof GOVERNANCE_HEADERS)[keyof typeof GOVERNANCE_HEADERS];

/** The header names of `GOVERNANCE_HEADERS`, in the same order. */
export const GOVERNANCE_HEADER_NAMES: readonly GovernanceHeaderName[] = Object.values(GOVERNANCE_HEADERS);

/**
 * Sent by the S3 endpoint only (the `/v1/storage` route never forwards it): the upload declares
 * no integrity, but its `aws-chunked` body ends with an `x-amz-checksum-sha256` trailer that the
 * gateway checks before it ends the body it streams on. The data plane, which sees the end of
 * the body only when the trailer held, records the SHA-256 it computed as the integrity.
 */
export const INTEGRITY_FROM_TRAILER_HEADER = 'x-eosc-integrity-from-trailer';

/**
 * Sent by the S3 endpoint only, like INTEGRITY_FROM_TRAILER_HEADER: the upload declares no
 * integrity, but its body is `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, each chunk signed with its
 * SHA-256 in the chain of the request's signature, and the gateway checks every chunk's
 * signature before the chunk goes on. The client's signature thus covers every byte; the data
 * plane records the SHA-256 it computed as the integrity.
 */
export const INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER = 'x-eosc-integrity-from-chunk-signatures';

/** The gateway-only headers above, which no client of `/v1/storage` may send. */
export const GATEWAY_ONLY_INTEGRITY_HEADERS: readonly string[] = [INTEGRITY_FROM_TRAILER_HEADER, INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER];

/** What vouches for a body that declares no integrity, from the gateway-only headers; undefined when nothing does. */
export function gatewayVouchedIntegrity(headers: Record<string, string | string[] | undefined>): string | undefined {
  if (headers[INTEGRITY_FROM_TRAILER_HEADER] === 'sha256') return 'x-amz-checksum-sha256 trailer';
  if (headers[INTEGRITY_FROM_CHUNK_SIGNATURES_HEADER] === 'sha256') return 'aws-chunked chunk signatures';
  return undefined;
}
