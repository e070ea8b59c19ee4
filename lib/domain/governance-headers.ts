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
