import { headerValue, canonicalRequest, stringToSign, type SignableRequest } from './sigv4-canonical-request';
import { parseAuthorization } from './sigv4-authorization';
import { parseAmzDate } from './sigv4-credential';
import { type CredentialScope, scopeText, signaturesEqual, signHex } from './sigv4-crypto';
import { parseQuery } from './sigv4-encoding';
import { payloadMode, UNSIGNED_PAYLOAD, type PayloadMode } from './sigv4-payload';
import { isPresigned, parsePresigned } from './sigv4-presigned';
import { S3Error } from './s3-error';

/**
 * What the verifier needs of a credential: its SigV4 signing key for the request's scope (a
 * day-scoped key, so the secret itself need not be at hand); the caller's type may carry more.
 */
export interface S3SigningCredential {
  signingKey: Buffer;
  /** After this instant the credential answers `ExpiredToken`. */
  expiresAt: Date | null;
}

export interface VerifyOptions<C extends S3SigningCredential> {
  /** The active (not revoked) credential of an access key id, keyed for `scope`, or undefined. */
  findCredential: (accessKeyId: string, scope: CredentialScope) => Promise<C | undefined>;
  /** The region clients must sign for. @default 'us-east-1' */
  region?: string;
  /** The clock difference allowed between client and server. @default 900_000 (15 minutes) */
  maxSkewMs?: number;
  now?: () => Date;
}

/** The chain state an `aws-chunked` body's chunk signatures continue from. */
export interface ChunkSigningSeed {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface VerifiedS3Request<C> {
  accessKeyId: string;
  credential: C;
  presigned: boolean;
  payload: PayloadMode;
  seed: ChunkSigningSeed;
}

const DEFAULT_SKEW_MS = 15 * 60_000;

/** Verifies a request's SigV4 signature, in the `Authorization` header or the query string (presigned URL). */
export async function verifyS3Request<C extends S3SigningCredential>(
  request: SignableRequest,
  options: VerifyOptions<C>,
): Promise<VerifiedS3Request<C>> {
  const now = (options.now ?? (() => new Date()))();
  const region = options.region ?? 'us-east-1';
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_SKEW_MS;
  const query = parseQuery(request.rawQuery);
  const authorization = headerValue(request.headers, 'authorization');
  const presigned = authorization === undefined && isPresigned(query);
  if (authorization === undefined && !presigned)
    throw new S3Error('AccessDenied', 'Anonymous requests are not allowed; sign the request with SigV4.');

  const parts = presigned ? presignedParts(request, query) : headerParts(request, authorization!);
  const scopeError = presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed';
  const instant = parseAmzDate(parts.amzDate);
  if (!instant) throw new S3Error('AccessDenied', 'AWS authentication requires a valid x-amz-date (yyyyMMddTHHmmssZ).');
  if (parts.scope.date !== parts.amzDate.slice(0, 8)) {
    throw new S3Error(
      scopeError,
      `Invalid credential date "${parts.scope.date}". This date is not the same as X-Amz-Date: "${parts.amzDate.slice(0, 8)}".`,
    );
  }
  if (parts.scope.region !== region) throw new S3Error(scopeError, `The region '${parts.scope.region}' is wrong; expecting '${region}'.`);
  assertAmzHeadersSigned(request, parts.signedHeaders, presigned);

  const credential = await options.findCredential(parts.accessKeyId, parts.scope);
  if (!credential) throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (credential.expiresAt && credential.expiresAt.getTime() <= now.getTime())
    throw new S3Error('ExpiredToken', 'The provided token has expired.');

  const key = credential.signingKey;
  const canonical = canonicalRequest({
    request,
    query,
    signedHeaders: parts.signedHeaders,
    payloadHash: parts.payloadHash,
    excludeParameter: presigned ? 'X-Amz-Signature' : undefined,
  });
  const scope = scopeText(parts.scope);
  const expected = signHex(key, stringToSign(parts.amzDate, scope, canonical));
  if (!signaturesEqual(expected, parts.signature)) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }

  assertTimely(instant, now, maxSkewMs, presigned ? parts.expiresSeconds : undefined);
  return {
    accessKeyId: parts.accessKeyId,
    credential,
    presigned,
    payload: parts.payload,
    seed: { signingKey: key, amzDate: parts.amzDate, scope, seedSignature: expected },
  };
}

interface SignatureParts {
  accessKeyId: string;
  scope: CredentialScope;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  payload: PayloadMode;
  expiresSeconds?: number;
}

function headerParts(request: SignableRequest, authorization: string): SignatureParts {
  const parsed = parseAuthorization(authorization);
  const contentSha256 = headerValue(request.headers, 'x-amz-content-sha256');
  if (contentSha256 === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256.');
  return {
    ...parsed,
    amzDate: headerValue(request.headers, 'x-amz-date') ?? '',
    payloadHash: contentSha256,
    payload: payloadMode(contentSha256, headerValue(request.headers, 'x-amz-decoded-content-length')),
  };
}

function presignedParts(request: SignableRequest, query: ReturnType<typeof parseQuery>): SignatureParts {
  const parsed = parsePresigned(query);
  const payloadHash = parsed.payloadHash ?? UNSIGNED_PAYLOAD;
  const payload = payloadMode(payloadHash, headerValue(request.headers, 'x-amz-decoded-content-length'));
  if (payload.kind !== 'signed' && payload.kind !== 'unsigned')
    throw new S3Error('AuthorizationQueryParametersError', 'A presigned URL cannot carry an aws-chunked body.');
  return { ...parsed, payloadHash, payload };
}

/** S3 refuses `x-amz-*` headers the signature does not cover: they could change what the request does. */
function assertAmzHeadersSigned(request: SignableRequest, signedHeaders: readonly string[], presigned: boolean): void {
  const unsigned = Object.keys(request.headers).filter(
    (name) =>
      name.startsWith('x-amz-') &&
      request.headers[name] !== undefined &&
      !signedHeaders.includes(name) &&
      !(presigned && name === 'x-amz-content-sha256'),
  );
  if (unsigned.length > 0)
    throw new S3Error('AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ')}.`);
}

function assertTimely(instant: Date, now: Date, maxSkewMs: number, expiresSeconds: number | undefined): void {
  const ahead = instant.getTime() - now.getTime();
  if (expiresSeconds === undefined) {
    if (Math.abs(ahead) > maxSkewMs)
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    return;
  }
  if (ahead > maxSkewMs) throw new S3Error('AccessDenied', 'Request is not valid yet.');
  if (now.getTime() > instant.getTime() + expiresSeconds * 1000) throw new S3Error('AccessDenied', 'Request has expired.');
}
