import fc from 'fast-check';
import { signingKey } from '../../lib/s3/sigv4-crypto';
import { verifyS3Request, type S3SigningCredential, type VerifyOptions } from '../../lib/s3/sigv4-verify';
import { S3Error } from '../../lib/s3/s3-error';
import { received, s3Path, sdkRequest, smithySigner } from '../support/smithy-signer';

const ACCESS_KEY = 'ECSTESTACCESSKEY0001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2026-12-06T12:00:00Z');

interface TestCredential extends S3SigningCredential {
  tenantId: string;
}

function options(overrides: Partial<VerifyOptions<TestCredential>> = {}): VerifyOptions<TestCredential> {
  return {
    findCredential: async (id, scope) =>
      id === ACCESS_KEY ? { signingKey: signingKey(SECRET, scope), expiresAt: null, tenantId: 'tenant-a' } : undefined,
    now: () => NOW,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<S3Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof S3Error)) throw new Error(`expected an S3Error, got ${String(error)}`);
  return error;
}

async function signGet(path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, signingDate = NOW) {
  return smithySigner(ACCESS_KEY, SECRET).sign(sdkRequest({ method: 'GET', path, query, headers, body: '' }), { signingDate });
}

const keyText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((text) => !text.includes('/'));
const objectKey = fc.array(keyText, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'));
// `__proto__` is left out: the SDK's request holds the query in a plain object, where it cannot
// be an own key, so the SDK would sign a different query than the one sent.
const queryParameters = fc.dictionary(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((name) => name !== '__proto__'),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  {
    maxKeys: 5,
  },
);

describe('SigV4 in the Authorization header, against the AWS SDK signer', () => {
  it('accepts what the SDK signs, for keys with unicode, spaces and reserved characters, and any query', async () => {
    await fc.assert(
      fc.asyncProperty(objectKey, queryParameters, async (key, query) => {
        const signed = await signGet(s3Path('bucket-1', key), query);
        const verified = await verifyS3Request(received(signed), options());
        expect(verified.credential.tenantId).toBe('tenant-a');
        expect(verified.payload).toEqual({ kind: 'signed', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a request whose path, query or signed header changed after signing', async () => {
    await fc.assert(
      fc.asyncProperty(objectKey, fc.constantFrom('path', 'query', 'header'), async (key, part) => {
        const signed = received(await signGet(s3Path('bucket-1', key), { 'list-type': '2' }, { 'x-amz-meta-note': 'kept' }));
        const tampered =
          part === 'path'
            ? { ...signed, rawPath: `${signed.rawPath}x` }
            : part === 'query'
              ? { ...signed, rawQuery: signed.rawQuery.replace('list-type=2', 'list-type=1') }
              : { ...signed, headers: { ...signed.headers, 'x-amz-meta-note': 'changed' } };
        expect((await rejection(verifyS3Request(tampered, options()))).code).toBe('SignatureDoesNotMatch');
      }),
      { numRuns: 60 },
    );
  });

  it('reads a path however the client escaped it, as long as it decodes the same', async () => {
    const signed = received(await signGet(s3Path('bucket-1', "a b/c~d!e'(f)*.txt")));
    const otherEscaping = { ...signed, rawPath: '/bucket-1/a%20b/c%7Ed%21e%27%28f%29%2A.txt'.replace('%21', '!') };
    await expect(verifyS3Request(otherEscaping, options())).resolves.toBeDefined();
    const badEscape = { ...signed, rawPath: '/bucket-1/%zz' };
    expect((await rejection(verifyS3Request(badEscape, options()))).code).toBe('InvalidURI');
  });

  it('takes an unsigned payload as unsigned', async () => {
    const signed = await signGet('/bucket-1/key', {}, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect((await verifyS3Request(received(signed), options())).payload).toEqual({ kind: 'unsigned' });
  });

  it('answers the error codes S3 uses', async () => {
    const signed = received(await signGet('/bucket-1/key'));
    const wrongSecret = received(
      await smithySigner(ACCESS_KEY, 'not-the-secret').sign(sdkRequest({ method: 'GET', path: '/bucket-1/key', query: {}, headers: {} }), {
        signingDate: NOW,
      }),
    );
    const unknownKey = received(
      await smithySigner('UNKNOWNKEY', SECRET).sign(sdkRequest({ method: 'GET', path: '/b/k', query: {}, headers: {} }), {
        signingDate: NOW,
      }),
    );
    const otherRegion = received(
      await smithySigner(ACCESS_KEY, SECRET, 'eu-west-1').sign(sdkRequest({ method: 'GET', path: '/b/k', query: {}, headers: {} }), {
        signingDate: NOW,
      }),
    );
    const expired = options({
      findCredential: async (_, scope) => ({
        signingKey: signingKey(SECRET, scope),
        expiresAt: new Date(NOW.getTime() - 1),
        tenantId: 't',
      }),
    });
    const cases: Array<[Promise<unknown>, string, number]> = [
      [verifyS3Request(wrongSecret, options()), 'SignatureDoesNotMatch', 403],
      [verifyS3Request(unknownKey, options()), 'InvalidAccessKeyId', 403],
      [verifyS3Request(signed, expired), 'ExpiredToken', 400],
      [verifyS3Request(otherRegion, options()), 'AuthorizationHeaderMalformed', 400],
      [
        verifyS3Request({ ...signed, headers: { ...signed.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' } }, options()),
        'AuthorizationHeaderMalformed',
        400,
      ],
      [
        verifyS3Request({ ...signed, headers: { ...signed.headers, authorization: 'AWS AKID:c2lnbmF0dXJl' } }, options()),
        'InvalidRequest',
        400,
      ],
      [
        verifyS3Request({ ...signed, headers: { ...signed.headers, 'x-amz-meta-eosc-jurisdiction': 'DE' } }, options()),
        'AccessDenied',
        403,
      ],
      [verifyS3Request({ ...signed, headers: { ...signed.headers, 'x-amz-content-sha256': undefined } }, options()), 'InvalidRequest', 400],
      [verifyS3Request({ ...signed, headers: { ...signed.headers, authorization: undefined } }, options()), 'AccessDenied', 403],
    ];
    for (const [promise, code, status] of cases) {
      const error = await rejection(promise);
      expect([error.code, error.status]).toEqual([code, status]);
    }
  });

  it('allows 15 minutes of clock skew either way, and no more', async () => {
    for (const minutes of [-14, 14]) {
      const signed = await signGet('/bucket-1/key', {}, {}, new Date(NOW.getTime() + minutes * 60_000));
      await expect(verifyS3Request(received(signed), options())).resolves.toBeDefined();
    }
    for (const minutes of [-16, 16]) {
      const signed = await signGet('/bucket-1/key', {}, {}, new Date(NOW.getTime() + minutes * 60_000));
      expect((await rejection(verifyS3Request(received(signed), options()))).code).toBe('RequestTimeTooSkewed');
    }
  });
});

describe('SigV4 presigned URLs, against the AWS SDK signer', () => {
  async function presign(path: string, expiresIn: number, signingDate = NOW, query: Record<string, string> = {}) {
    // As @aws-sdk/s3-request-presigner does: the payload is unsigned, and the header goes into the query.
    const request = sdkRequest({ method: 'GET', path, query, headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } });
    return received(await smithySigner(ACCESS_KEY, SECRET).presign(request, { expiresIn, signingDate }));
  }

  it('accepts a URL within its validity, for any key and query', async () => {
    await fc.assert(
      fc.asyncProperty(objectKey, queryParameters, async (key, query) => {
        const signed = await presign(s3Path('bucket-1', key), 3600, NOW, query);
        const verified = await verifyS3Request(signed, options());
        expect([verified.presigned, verified.payload.kind]).toEqual([true, 'unsigned']);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an expired, not yet valid, tampered or over-long URL', async () => {
    const expired = await presign('/bucket-1/key', 60, new Date(NOW.getTime() - 61_000));
    expect(await rejection(verifyS3Request(expired, options()))).toMatchObject({ code: 'AccessDenied', message: 'Request has expired.' });
    const early = await presign('/bucket-1/key', 60, new Date(NOW.getTime() + 16 * 60_000));
    expect((await rejection(verifyS3Request(early, options()))).code).toBe('AccessDenied');
    const valid = await presign('/bucket-1/key', 604_800, new Date(NOW.getTime() - 604_000_000));
    await expect(verifyS3Request(valid, options())).resolves.toBeDefined();
    const tampered = { ...valid, rawPath: '/bucket-1/other' };
    expect((await rejection(verifyS3Request(tampered, options()))).code).toBe('SignatureDoesNotMatch');
    const tooLong = { ...valid, rawQuery: valid.rawQuery.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801') };
    expect((await rejection(verifyS3Request(tooLong, options()))).code).toBe('AuthorizationQueryParametersError');
    const twice = { ...valid, rawQuery: `${valid.rawQuery}&X-Amz-Signature=${'0'.repeat(64)}` };
    expect((await rejection(verifyS3Request(twice, options()))).code).toBe('AuthorizationQueryParametersError');
  });
});
