import type { NextFunction, Request, Response } from 'express';
import type { Caller } from '../lib/auth/caller';
import { DEV_ISSUER } from '../lib/auth/dev-issuer';
import type { CallerRole } from '../lib/auth/permissions';
import { TokenVerificationError } from '../lib/auth/token-verifier';
import type { TokenVerifier } from '../lib/auth/token-verifier';
import { ErrorCode } from '../lib/errors';
import type { RefusalThrottle } from '../lib/evidence/refusal-throttle';
import type { RequestLocals } from '../lib/http/request-log';
import { textProblem } from '../lib/input/unsafe-text';

export interface AuthenticatedLocals extends RequestLocals {
  caller: Caller;
}

/** What the identity plane says about a presented API key. */
export type ApiKeyLookup = { ok: true; caller: Caller } | { ok: false; reason: string };

export interface AuthenticatorOptions {
  verifier: TokenVerifier;
  lookupApiKey(presented: string, requestId: string): Promise<ApiKeyLookup>;
  throttle: RefusalThrottle;
}

/** Missing or invalid credentials; `reasonCode` goes into the refusal evidence. */
export class Unauthenticated extends Error {
  constructor(
    readonly reasonCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Credentials as presented: the `Authorization` value and/or the `X-API-Key` value. */
export interface PresentedCredentials {
  authorization?: string;
  apiKey?: string;
}

/** API keys as issued: `ecs_<prefix>_<secret>`, visible ASCII only. */
const API_KEY_TEXT = /^[\x21-\x7e]{1,200}$/;

/**
 * Turns a verified bearer token into a caller. Its claims become evidence (`actor`) and
 * database keys, so a claim that is not well-formed text refuses the token, whoever signed it.
 */
function callerFromToken(token: Awaited<ReturnType<TokenVerifier['verify']>>): Caller {
  for (const [claim, value] of [
    ['sub', token.subject],
    ['tenant', token.tenantId],
    ['jurisdiction', token.jurisdiction],
    ...token.roles.map((role) => ['role', role]),
  ]) {
    if (value !== undefined && textProblem(value, 'line'))
      throw new Unauthenticated('token_claims_malformed', `the token's ${claim} claim is not well-formed text`);
  }
  return {
    subject: token.subject,
    roles: token.roles as CallerRole[],
    ...(token.tenantId ? { tenantId: token.tenantId } : {}),
    ...(token.jurisdiction ? { jurisdiction: token.jurisdiction } : {}),
    authMethod: token.issuer === DEV_ISSUER ? 'dev-issuer' : 'oidc',
    issuer: token.issuer,
    expiresAt: token.expiresAt.toISOString(),
  };
}

/**
 * Turns presented credentials into a caller (HTTP headers, or a websocket's
 * `connection_init` payload).
 * @throws Unauthenticated when they are missing, ambiguous or invalid
 */
export async function identifyCaller(
  { authorization, apiKey }: PresentedCredentials,
  requestId: string,
  options: AuthenticatorOptions,
): Promise<Caller> {
  if (authorization !== undefined && apiKey !== undefined) {
    throw new Unauthenticated('ambiguous_credentials', 'send either a bearer token or an API key, not both');
  }
  if (typeof apiKey === 'string') {
    if (!API_KEY_TEXT.test(apiKey)) throw new Unauthenticated('api_key_malformed', 'API key is malformed');
    const lookup = await options.lookupApiKey(apiKey, requestId);
    if (!lookup.ok) throw new Unauthenticated(`api_key_${lookup.reason}`, `API key is ${lookup.reason}`);
    return lookup.caller;
  }
  if (typeof authorization === 'string') {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization);
    if (!match) throw new Unauthenticated('malformed_authorization', 'Authorization must be "Bearer <token>"');
    try {
      const caller = callerFromToken(await options.verifier.verify(match[1]!));
      if (caller.roles.length === 0) throw new Unauthenticated('no_known_role', 'the token carries no known role');
      return caller;
    } catch (error) {
      if (error instanceof Unauthenticated) throw error;
      const failure = error instanceof TokenVerificationError ? error.failure : 'invalid';
      throw new Unauthenticated(`token_${failure}`, error instanceof TokenVerificationError ? error.message : 'token is not valid');
    }
  }
  throw new Unauthenticated('credentials_missing', 'authentication required: a bearer token or an API key');
}

/**
 * Records an authentication refusal (bounded, see RefusalThrottle) and returns its
 * evidence pointer, or undefined when the evidence could not be written (logged).
 */
export function recordUnauthenticated(
  options: AuthenticatorOptions,
  error: Unauthenticated,
  request: { address: string | undefined; subject: string; correlationId: string; log: RequestLocals['log'] },
): Promise<string | undefined> {
  return options.throttle
    .record(`${request.address ?? 'unknown'}:${error.reasonCode}`, {
      actor: 'unauthenticated',
      correlationId: request.correlationId,
      eventType: 'authority.refusal',
      refusal: {
        reasonClass: 'authority_missing_or_invalid',
        reasonCode: error.reasonCode,
        subject: request.subject,
        reason: error.message,
      },
    })
    .catch((cause: unknown) => {
      request.log.error({ err: cause }, 'refusal evidence not recorded');
      return undefined;
    });
}

/** The outcome of authenticating credentials presented outside HTTP headers. */
export type Identification =
  | { ok: true; caller: Caller }
  | { ok: false; reasonCode: string; message: string; evidencePointer: string | undefined };

/**
 * Authenticates credentials from elsewhere than the request headers (a websocket's
 * `connection_init`), recording a refusal as evidence the same way as for HTTP.
 */
export type Identify = (
  credentials: PresentedCredentials,
  request: { address: string | undefined; subject: string; correlationId: string; log: RequestLocals['log'] },
) => Promise<Identification>;

export function identify(options: AuthenticatorOptions): Identify {
  return async (credentials, request) => {
    try {
      return { ok: true, caller: await identifyCaller(credentials, request.correlationId, options) };
    } catch (error) {
      if (!(error instanceof Unauthenticated)) throw error;
      const evidencePointer = await recordUnauthenticated(options, error, request);
      return { ok: false, reasonCode: error.reasonCode, message: error.message, evidencePointer };
    }
  };
}

/**
 * Authenticates every request of the routes it guards. A request without valid
 * credentials gets 401 with the error body and an evidence pointer (bounded evidence, see
 * RefusalThrottle); GraphQL callers get the same as a GraphQL error.
 */
export function authenticate(options: AuthenticatorOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const locals = res.locals as AuthenticatedLocals;
    try {
      const apiKey = req.headers['x-api-key'];
      locals.caller = await identifyCaller(
        { authorization: req.headers.authorization, apiKey: Array.isArray(apiKey) ? apiKey.join(',') : apiKey },
        locals.requestId,
        options,
      );
      next();
      return;
    } catch (error) {
      if (!(error instanceof Unauthenticated)) {
        next(error);
        return;
      }
      const pointer = await recordUnauthenticated(options, error, {
        address: req.socket.remoteAddress,
        subject: `${req.method} ${req.baseUrl || req.path}`,
        correlationId: locals.requestId,
        log: locals.log,
      });
      res.setHeader('www-authenticate', 'Bearer realm="ecs-gateway"');
      const body = { code: ErrorCode.Unauthenticated, message: error.message, ...(pointer ? { evidence_pointer: pointer } : {}) };
      if (req.baseUrl === '/graphql') {
        res.status(401).json({ errors: [{ message: error.message, extensions: { code: body.code, evidence_pointer: pointer } }] });
      } else {
        res.status(401).json(body);
      }
    }
  };
}
