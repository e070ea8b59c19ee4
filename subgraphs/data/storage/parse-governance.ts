import { isClassification } from '../../../lib/domain/classification';
import type { Classification } from '../../../lib/domain/classification';
import { isJurisdiction, jurisdictionWithin } from '../../../lib/domain/jurisdiction';
import { ErrorCode } from '../../../lib/errors';
import { isPublicHttpsUrl } from '../../../lib/http/public-url';
import { parseTimestamp } from '../../../lib/domain/timestamp';
import { GOVERNANCE_HEADERS } from '../../../lib/domain/governance-headers';

export { GOVERNANCE_HEADERS } from '../../../lib/domain/governance-headers';

/** The eight governance values of a stored version, paired with their header names. */
export function governanceHeaderValues(version: {
  jurisdiction: string | null;
  retentionTtl: string | null;
  integrity: string | null;
  classification: string | null;
  evidencePointer: string | null;
  dataProductId: string | null;
  usagePolicySnapshotId: string | null;
  consentTokenRef: string | null;
}): Array<[string, string | null]> {
  const H = GOVERNANCE_HEADERS;
  return [
    [H.jurisdiction, version.jurisdiction],
    [H.retention, version.retentionTtl],
    [H.integrity, version.integrity],
    [H.classification, version.classification],
    [H.evidencePointer, version.evidencePointer],
    [H.dataProductId, version.dataProductId],
    [H.usagePolicySnapshotId, version.usagePolicySnapshotId],
    [H.consentTokenRef, version.consentTokenRef],
  ];
}

/** Optional on PUT: `ON` places a legal hold on the new version. */
export const LEGAL_HOLD_HEADER = 'x-eosc-legal-hold';

/** Integrity algorithms this provider verifies on write (ws2: sha256 is mandatory; the others are MAY). */
export const SUPPORTED_INTEGRITY = ['sha256'] as const;
/** Algorithms ws2 says MUST be rejected. */
const FORBIDDEN_INTEGRITY = new Set(['md5', 'sha1']);

/** What a write's integrity is before its bytes are stored, when the S3 endpoint vouches for the body. */
export const BODY_INTEGRITY = 'sha256 of the body, vouched for by the S3 request (checksum trailer or chunk signatures)';

/** What a multipart upload's integrity is before it completes, when each part declares its own. */
export const PER_PART_INTEGRITY = 'sha256 of the assembled parts, each part vouched for by its declared SHA-256';

/** How a write may go without a declared `x-eosc-integrity`. */
export interface IntegrityOptions {
  /** The S3 endpoint checks what vouches for the body: its SHA-256 trailer or chunk signatures (gatewayVouchedIntegrity). */
  integrityFromBody?: boolean;
  /** A multipart upload: each part then declares its SHA-256 instead. */
  integrityPerPart?: boolean;
}

export interface Governance {
  /** As declared (one code or a comma list), normalised to upper case without spaces. */
  jurisdiction: string;
  jurisdictions: string[];
  retentionTtl: string;
  retentionUntil: Date;
  /** `sha256:<lowercase hex>`; before the bytes are stored, a description when `integrityFromBody`. */
  integrity: string;
  /** The declared SHA-256, or undefined when `integrityFromBody`. */
  expectedSha256: string | undefined;
  /**
   * No integrity was declared, and none had to be: the S3 endpoint vouched for the body's SHA-256
   * with a checked `x-amz-checksum-sha256` trailer (INTEGRITY_FROM_TRAILER_HEADER), or a multipart
   * upload's parts each declare theirs. The SHA-256 computed while storing is the integrity.
   */
  integrityFromBody: boolean;
  classification: Classification;
  evidencePointer: string;
  dataProductId: string;
  usagePolicySnapshotId: string;
  consentTokenRef: string;
  legalHold: boolean;
}

export interface GovernanceViolation {
  code: ErrorCode;
  /** Refusal reason code for the evidence (snake_case). */
  reasonCode: string;
  message: string;
  header: string;
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(',') : value;
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

const REFERENCE = /^[\x21-\x7e]{1,256}$/;
const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const MAX_DATE = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * When retention ends: an RFC 3339 timestamp is absolute; otherwise an ISO 8601 duration
 * from `now` (ws2: "If parseable as RFC 3339, treat as absolute; otherwise parse as duration").
 * A timestamp of an impossible calendar date (30 February, hour 24) is refused, never rolled over.
 */
export function parseRetention(value: string, now: Date): Date | undefined {
  const absolute = parseTimestamp(value);
  if (absolute) return absolute.getTime() <= MAX_DATE ? absolute : undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const [, years, months, weeks, days, hours, minutes, seconds] = match.map((part) => (part === undefined ? 0 : Number(part)));
  const until = new Date(now.getTime());
  until.setUTCFullYear(until.getUTCFullYear() + years!, until.getUTCMonth() + months!);
  const time = until.getTime() + ((weeks! * 7 + days!) * 86_400 + hours! * 3600 + minutes! * 60 + seconds!) * 1000;
  return Number.isFinite(time) && time <= MAX_DATE ? new Date(Math.floor(time)) : undefined;
}

/** An ISO 8601 duration as `x-eosc-retention-ttl` accepts it (bucket default retention). */
export function isDuration(value: string): boolean {
  return DURATION.test(value) && parseRetention(value, new Date(0)) !== undefined;
}

/** `eosc://evidence/<id>` or an https URL of a public host (ws2 evidence pointer contract; never fetched). */
export function isEvidencePointer(value: string): boolean {
  if (value.length > 2048 || /[\s\x00-\x1f\x7f]/.test(value)) return false;
  if (/^eosc:\/\/evidence\/[A-Za-z0-9._:~%-]+$/.test(value)) return true;
  return isPublicHttpsUrl(value);
}

/** An `x-eosc-integrity` value: the declared SHA-256 (lowercase hex), or why it is refused. */
export function parseDeclaredIntegrity(integrity: string | undefined): string | GovernanceViolation {
  const header = GOVERNANCE_HEADERS.integrity;
  if (!integrity) return { code: ErrorCode.MissingIntegrity, reasonCode: 'missing_integrity', header, message: `${header} is required` };
  const integrityMatch = /^([a-z0-9-]+):([A-Fa-f0-9]+)$/.exec(integrity);
  const algorithm = integrityMatch?.[1]?.toLowerCase();
  if (
    !integrityMatch ||
    !algorithm ||
    FORBIDDEN_INTEGRITY.has(algorithm) ||
    !(SUPPORTED_INTEGRITY as readonly string[]).includes(algorithm) ||
    integrityMatch[2]!.length !== 64
  ) {
    const message =
      algorithm && FORBIDDEN_INTEGRITY.has(algorithm)
        ? `${algorithm} is not accepted for integrity`
        : `${header} must be sha256:<64 hex digits>`;
    return { code: ErrorCode.IntegrityAlgorithmUnsupported, reasonCode: 'integrity_algorithm_unsupported', header, message };
  }
  return integrityMatch[2]!.toLowerCase();
}

/** Validates the ws2 headers of a write; the first violation wins, in header order. */
export function parseGovernance(headers: Headers, now: Date, options: IntegrityOptions = {}): Governance | GovernanceViolation {
  const violation = (code: ErrorCode, reasonCode: string, header: string, message: string): GovernanceViolation => ({
    code,
    reasonCode,
    header,
    message,
  });
  const H = GOVERNANCE_HEADERS;

  const jurisdictionText = single(headers, H.jurisdiction);
  if (!jurisdictionText)
    return violation(ErrorCode.MissingJurisdiction, 'missing_jurisdiction', H.jurisdiction, `${H.jurisdiction} is required`);
  const jurisdictions = jurisdictionText.split(',').map((part) => part.trim().toUpperCase());
  if (jurisdictions.some((part) => !isJurisdiction(part)) || new Set(jurisdictions).size !== jurisdictions.length) {
    return violation(
      ErrorCode.InvalidJurisdiction,
      'invalid_jurisdiction',
      H.jurisdiction,
      `${H.jurisdiction} must be ISO 3166-1 alpha-2 codes, EU or EEA (comma-separated)`,
    );
  }

  const retentionTtl = single(headers, H.retention);
  if (!retentionTtl) return violation(ErrorCode.MissingRetention, 'missing_retention', H.retention, `${H.retention} is required`);
  const retentionUntil = parseRetention(retentionTtl, now);
  if (!retentionUntil) {
    return violation(
      ErrorCode.InvalidRetentionFormat,
      'invalid_retention_format',
      H.retention,
      `${H.retention} must be an ISO 8601 duration (P30D) or an RFC 3339 timestamp`,
    );
  }

  const integrity = single(headers, H.integrity);
  const integrityFromBody = !integrity && (options.integrityFromBody === true || options.integrityPerPart === true);
  let expectedSha256: string | undefined;
  if (!integrityFromBody) {
    const declared = parseDeclaredIntegrity(integrity);
    if (typeof declared !== 'string') return declared;
    expectedSha256 = declared;
  }

  const classification = single(headers, H.classification);
  if (!classification)
    return violation(ErrorCode.MissingClassification, 'missing_classification', H.classification, `${H.classification} is required`);
  if (!isClassification(classification)) {
    return violation(
      ErrorCode.ClassificationUnknown,
      'classification_unknown',
      H.classification,
      `${H.classification} must be public, internal, restricted or secret`,
    );
  }

  const evidencePointer = single(headers, H.evidencePointer);
  if (!evidencePointer || !isEvidencePointer(evidencePointer)) {
    return violation(
      ErrorCode.InvalidEvidencePointer,
      evidencePointer ? 'invalid_evidence_pointer' : 'missing_evidence_pointer',
      H.evidencePointer,
      `${H.evidencePointer} must be an eosc://evidence/... or https URI`,
    );
  }

  const references = [
    [H.dataProductId, ErrorCode.MissingDataProductId, 'missing_data_product_id'],
    [H.usagePolicySnapshotId, ErrorCode.MissingUsagePolicySnapshotId, 'missing_usage_policy_snapshot_id'],
    [H.consentTokenRef, ErrorCode.MissingConsentTokenRef, 'missing_consent_token_ref'],
  ] as const;
  const values: string[] = [];
  for (const [header, code, reasonCode] of references) {
    const value = single(headers, header);
    if (!value || !REFERENCE.test(value))
      return violation(code, reasonCode, header, `${header} is required (1-256 visible ASCII characters)`);
    values.push(value);
  }

  return {
    jurisdiction: jurisdictions.join(','),
    jurisdictions,
    retentionTtl,
    retentionUntil,
    integrity: expectedSha256 !== undefined ? `sha256:${expectedSha256}` : options.integrityPerPart ? PER_PART_INTEGRITY : BODY_INTEGRITY,
    expectedSha256,
    integrityFromBody,
    classification,
    evidencePointer,
    dataProductId: values[0]!,
    usagePolicySnapshotId: values[1]!,
    consentTokenRef: values[2]!,
    legalHold: single(headers, LEGAL_HOLD_HEADER)?.toUpperCase() === 'ON',
  };
}

export function isViolation(value: Governance | GovernanceViolation): value is GovernanceViolation {
  return 'reasonCode' in value;
}

/**
 * Placement is allowed when the bucket's location lies inside one of the declared
 * jurisdictions (an object declared `DE` may not sit in an `EU` bucket) and inside the
 * tenant's jurisdiction.
 */
export function placementAllowed(declared: string[], bucketJurisdiction: string, tenantJurisdiction: string): boolean {
  return (
    declared.some((allowed) => jurisdictionWithin(bucketJurisdiction, allowed)) &&
    jurisdictionWithin(bucketJurisdiction, tenantJurisdiction)
  );
}

/** Object keys: one rule for the gateway and the data plane. */
export { objectKeyProblem } from '../../../lib/domain/object-key';
