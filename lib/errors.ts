import { GraphQLError } from 'graphql';
import type { GraphQLFormattedError } from 'graphql';

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
  /** Anything unexpected; details stay in the log. */
  Internal: 'ECS_INTERNAL',
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
  ECS_NOT_FOUND: 404,
  ECS_CONFLICT: 409,
  ECS_UNAUTHENTICATED: 401,
  ECS_FORBIDDEN: 403,
  ECS_DEPENDENCY_UNAVAILABLE: 503,
  ECS_INTERNAL: 500,
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
  if (knownCodes.has(code)) return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: pickPublic(formatted.extensions) };
  const requestCode = apolloRequestCodes[code];
  if (requestCode) {
    return {
      message: formatted.message,
      locations: formatted.locations,
      extensions: { code: requestCode, apollo_code: code },
    };
  }
  onInternal(original);
  return { message: 'internal error', path: formatted.path, extensions: { code: ErrorCode.Internal } };
}

function pickPublic(extensions: GraphQLFormattedError['extensions']): Record<string, unknown> {
  const { code, evidence_pointer, field, serviceName } = extensions ?? {};
  return Object.fromEntries(
    Object.entries({ code, evidence_pointer, field, plane: serviceName }).filter(([, value]) => value !== undefined),
  );
}
