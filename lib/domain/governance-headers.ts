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
