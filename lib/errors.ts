import { GraphQLError } from 'graphql';
import type { GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from './db/unavailable';

/**
 * The project's one error vocabulary. GraphQL carries the code as `extensions.code`,
 * REST as the `code` of the error body; `ERROR_STATUS` maps each to an HTTP status.
 */
export const ErrorCode = {
  /** Malformed request: bad argument, unknown field, wrong type. */
  BadRequest: 'ECS_BAD_REQUEST',
  /** A field value is outside what the spec allows (jurisdiction, classification, ...). */
  ValidationFailed: 'ECS_VALIDATION_FAILED',
  /** A governed action names no valid authority binding. */
  MissingAuthority: 'ECS_MISSING_AUTHORITY',
  /** A tenant names no existing policy baseline. */
  MissingPolicy: 'ECS_MISSING_POLICY',
  /** The policy in force refuses the action (the evidence names the Cedar policies). */
  PolicyDenied: 'ECS_POLICY_DENIED',
  /** The placement or data location is outside the permitted jurisdiction. */
  JurisdictionDenied: 'ECS_JURISDICTION_DENIED',
  /** A pagination cursor that this service did not issue, or issued for other arguments. */
  InvalidCursor: 'ECS_INVALID_CURSOR',
  /** A cursor older than its lifetime (24 hours); start the listing again. */
  CursorExpired: 'ECS_CURSOR_EXPIRED',
  /** `first`/`limit` outside 1..1000. */
  InvalidPageSize: 'ECS_INVALID_PAGE_SIZE',
  /** A request body over the size limit (REST: 1 MB). */
  PayloadTooLarge: 'ECS_PAYLOAD_TOO_LARGE',
  /** A request body that is not `application/json`, or a body where the route takes none. */
  UnsupportedMediaType: 'ECS_UNSUPPORTED_MEDIA_TYPE',
  /** No such resource, or not visible to the caller. */
  NotFound: 'ECS_NOT_FOUND',
  /** The resource exists already (duplicate id or name). */
  Conflict: 'ECS_CONFLICT',
  /** Missing or invalid credentials. */
  Unauthenticated: 'ECS_UNAUTHENTICATED',
  /** Valid caller without the right for the action. */
  Forbidden: 'ECS_FORBIDDEN',
  /** A plane or the database is not reachable; governed actions fail closed. */
  DependencyUnavailable: 'ECS_DEPENDENCY_UNAVAILABLE',
  /** An Idempotency-Key reused for a different request. */
  IdempotencyKeyReused: 'ECS_IDEMPOTENCY_KEY_REUSED',
  /** Too many requests from one principal or address; see Retry-After. */
  RateLimited: 'ECS_RATE_LIMITED',
  /**
   * A request body that did not arrive in time: a JSON body not complete within
   * `BODY_TIMEOUT_MS`, a streamed upload silent for `BODY_IDLE_TIMEOUT_MS`. The connection is closed.
   */
  RequestTimeout: 'ECS_REQUEST_TIMEOUT',
  /**
   * A live event stream whose client did not keep up: more than `SUBSCRIPTION_BUFFER` events
   * waited for it. The stream is closed (websocket code 4413); resume from the last sequence.
   */
  SlowConsumer: 'ECS_SLOW_CONSUMER',
  /** Anything unexpected; details stay in the log. */
  Internal: 'ECS_INTERNAL',
  // EOSC storage governance (ws2): machine-readable codes of refused object writes and deletes.
  /** `x-eosc-jurisdiction` is absent. */
  MissingJurisdiction: 'EOSC_MISSING_JURISDICTION',
  /** `x-eosc-jurisdiction` is not an ISO 3166-1 alpha-2 code, EU, EEA or a comma list of them. */
  InvalidJurisdiction: 'EOSC_INVALID_JURISDICTION',
  /** The declared jurisdiction does not permit placement in the bucket (or the bucket lies outside the tenant). */
  JurisdictionBlocked: 'EOSC_JURISDICTION_BLOCKED',
  /** `x-eosc-retention-ttl` is absent. */
  MissingRetention: 'EOSC_MISSING_RETENTION',
  /** `x-eosc-retention-ttl` is neither an ISO 8601 duration nor an RFC 3339 timestamp. */
  InvalidRetentionFormat: 'EOSC_INVALID_RETENTION_FORMAT',
  /** `x-eosc-integrity` is absent. */
  MissingIntegrity: 'EOSC_MISSING_INTEGRITY',
  /** `x-eosc-integrity` is malformed or names an unsupported (or forbidden: md5, sha1) algorithm. */
  IntegrityAlgorithmUnsupported: 'EOSC_INTEGRITY_ALGORITHM_UNSUPPORTED',
  /** The bytes received do not hash to the declared `x-eosc-integrity`. */
  IntegrityMismatch: 'EOSC_INTEGRITY_MISMATCH',
  /** `x-eosc-classification` is absent. */
  MissingClassification: 'EOSC_MISSING_CLASSIFICATION',
  /** `x-eosc-classification` is not public, internal, restricted or secret. */
  ClassificationUnknown: 'EOSC_CLASSIFICATION_UNKNOWN',
  /** `x-eosc-classification` exceeds the tenant's classification ceiling. */
  ClassificationAboveCeiling: 'EOSC_CLASSIFICATION_ABOVE_CEILING',
  /** `x-eosc-evidence-pointer` is absent or not an `eosc://evidence/...` or https URI. */
  InvalidEvidencePointer: 'EOSC_INVALID_EVIDENCE_POINTER',
  /** `x-eosc-data-product-id` is absent or invalid. */
  MissingDataProductId: 'EOSC_MISSING_DATA_PRODUCT_ID',
  /** `x-eosc-usage-policy-snapshot-id` is absent or invalid. */
  MissingUsagePolicySnapshotId: 'EOSC_MISSING_USAGE_POLICY_SNAPSHOT_ID',
  /** `x-eosc-consent-token-ref` is absent or invalid. */
  MissingConsentTokenRef: 'EOSC_MISSING_CONSENT_TOKEN_REF',
  /** The object key is empty, longer than 1024 bytes, or holds `..` segments, NUL or backslashes. */
  InvalidObjectKey: 'EOSC_INVALID_OBJECT_KEY',
  /** The object exceeds `MAX_OBJECT_BYTES`. */
  ObjectTooLarge: 'EOSC_OBJECT_TOO_LARGE',
  /** Delete or overwrite refused: retention is in force or a legal hold is on. */
  ObjectLocked: 'EOSC_OBJECT_LOCKED',
  /** A copy tried to change the source's governance metadata (ws2: copies keep it unchanged). */
  GovernanceMetadataImmutable: 'EOSC_GOVERNANCE_METADATA_IMMUTABLE',
  /** Read-verify: the stored bytes no longer hash to the recorded integrity; nothing is served. */
  StoredIntegrityMismatch: 'EOSC_STORED_INTEGRITY_MISMATCH',
  /** The multipart upload is completed, aborted or unknown for this key. */
  UploadNotOpen: 'EOSC_UPLOAD_NOT_OPEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_STATUS: Record<ErrorCode, number> = {
  ECS_BAD_REQUEST: 400,
  ECS_VALIDATION_FAILED: 400,
  ECS_MISSING_AUTHORITY: 400,
  ECS_MISSING_POLICY: 400,
  ECS_POLICY_DENIED: 403,
  ECS_JURISDICTION_DENIED: 403,
  ECS_INVALID_CURSOR: 400,
  ECS_INVALID_PAGE_SIZE: 400,
  ECS_CURSOR_EXPIRED: 410,
  ECS_PAYLOAD_TOO_LARGE: 413,
  ECS_UNSUPPORTED_MEDIA_TYPE: 415,
  ECS_NOT_FOUND: 404,
  ECS_CONFLICT: 409,
  ECS_UNAUTHENTICATED: 401,
  ECS_FORBIDDEN: 403,
  ECS_DEPENDENCY_UNAVAILABLE: 503,
  ECS_RATE_LIMITED: 429,
  ECS_REQUEST_TIMEOUT: 408,
  ECS_SLOW_CONSUMER: 429,
  ECS_IDEMPOTENCY_KEY_REUSED: 422,
  ECS_INTERNAL: 500,
  EOSC_MISSING_JURISDICTION: 400,
  EOSC_INVALID_JURISDICTION: 400,
  EOSC_JURISDICTION_BLOCKED: 403,
  EOSC_MISSING_RETENTION: 400,
  EOSC_INVALID_RETENTION_FORMAT: 400,
  EOSC_MISSING_INTEGRITY: 400,
  EOSC_INTEGRITY_ALGORITHM_UNSUPPORTED: 400,
  EOSC_INTEGRITY_MISMATCH: 400,
  EOSC_MISSING_CLASSIFICATION: 400,
  EOSC_CLASSIFICATION_UNKNOWN: 400,
  EOSC_CLASSIFICATION_ABOVE_CEILING: 403,
  EOSC_INVALID_EVIDENCE_POINTER: 400,
  EOSC_MISSING_DATA_PRODUCT_ID: 400,
  EOSC_MISSING_USAGE_POLICY_SNAPSHOT_ID: 400,
  EOSC_MISSING_CONSENT_TOKEN_REF: 400,
  EOSC_INVALID_OBJECT_KEY: 400,
  EOSC_OBJECT_TOO_LARGE: 413,
  EOSC_OBJECT_LOCKED: 403,
  EOSC_GOVERNANCE_METADATA_IMMUTABLE: 400,
  EOSC_STORED_INTEGRITY_MISMATCH: 409,
  EOSC_UPLOAD_NOT_OPEN: 404,
};

export interface EcsErrorOptions {
  /** Evidence pointer of the refusal event, when the error is a governed refusal. */
  evidencePointer?: string;
  /** The request field at fault, named to the caller. */
  field?: string;
  /** Detail for the log only; never sent to the caller. */
  internal?: unknown;
}

/** An error whose `message` is safe to show to the caller. */
export class EcsError extends Error {
  override readonly name = 'EcsError';
  readonly evidencePointer: string | undefined;
  readonly field: string | undefined;
  readonly internal: unknown;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: EcsErrorOptions = {},
  ) {
    super(message);
    this.evidencePointer = options.evidencePointer;
    this.field = options.field;
    this.internal = options.internal;
  }

  toGraphQLError(): GraphQLError {
    return new GraphQLError(this.message, {
      extensions: {
        code: this.code,
        ...(this.evidencePointer ? { evidence_pointer: this.evidencePointer } : {}),
        ...(this.field ? { field: this.field } : {}),
      },
    });
  }
}

const knownCodes = new Set<string>(Object.values(ErrorCode));
/** Apollo's own codes for requests it rejects before execution. */
const apolloRequestCodes: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.BadRequest,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.BadRequest,
  BAD_USER_INPUT: ErrorCode.BadRequest,
  BAD_REQUEST: ErrorCode.BadRequest,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.BadRequest,
  PERSISTED_QUERY_NOT_FOUND: ErrorCode.BadRequest,
  PERSISTED_QUERY_NOT_SUPPORTED: ErrorCode.BadRequest,
};

/**
 * Apollo `formatError` for the gateway and every subgraph: project errors and request
 * errors keep their code and message, everything else is masked.
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown) => void = () => undefined,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof EcsError) {
    return { ...formatted, message: original.message, extensions: original.toGraphQLError().extensions };
  }
  const code = String(formatted.extensions?.code ?? '');
  if (knownCodes.has(code))
    return {
      message: formatted.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: pickPublic(formatted.extensions),
    };
  const requestCode = apolloRequestCodes[code];
  if (requestCode) {
    return {
      message: formatted.message,
      locations: formatted.locations,
      extensions: { code: requestCode, apollo_code: code },
    };
  }
  if (isApolloRequestRefusal(error)) {
    return { message: formatted.message, extensions: { code: ErrorCode.BadRequest } };
  }
  if (isDatabaseUnavailable(original)) {
    return {
      message: 'the database is not available; retry later',
      path: formatted.path,
      extensions: { code: ErrorCode.DependencyUnavailable },
    };
  }
  onInternal(original);
  return { message: 'internal error', path: formatted.path, extensions: { code: ErrorCode.Internal } };
}

/**
 * A request Apollo Server refuses with an HTTP status of its own and no code (an automatic
 * persisted query whose hash does not match its document, an unsupported persisted-query
 * version): the caller's mistake, told as such.
 */
function isApolloRequestRefusal(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function pickPublic(extensions: GraphQLFormattedError['extensions']): Record<string, unknown> {
  const { code, evidence_pointer, field, serviceName } = extensions ?? {};
  return Object.fromEntries(
    Object.entries({ code, evidence_pointer, field, plane: serviceName }).filter(([, value]) => value !== undefined),
  );
}
