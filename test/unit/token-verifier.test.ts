// The bearer-token verifier against the JWT attacks of RFC 8725 (checklist items 37-45), with
// keys served by a real JWKS endpoint on 127.0.0.1 that counts what it is asked.
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { KNOWN_ROLES, TokenVerificationError, createTokenVerifier } from '../../lib/auth/token-verifier';
import type { TokenFailure, TokenVerifier, TokenVerifierOptions } from '../../lib/auth/token-verifier';

const ISSUER = 'https://idp.example.test/realms/ecs';
const AUDIENCE = 'ecs-gateway';

interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

interface JwksServer {
  url: string;
  /** Paths of every request received, in order. */
  requests: string[];
  serve(keys: KeyPair[]): void;
  /** Answer every request with this status instead of the key set. */
  failWith(status: number | undefined): void;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  jest.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startJwksServer(initial: KeyPair[]): Promise<JwksServer> {
  let keys = initial;
  let status: number | undefined;
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    if (status !== undefined || request.url !== '/jwks') {
      response.writeHead(status ?? 404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    response.end(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  const jwks: JwksServer = {
    url: `http://127.0.0.1:${port}/jwks`,
    requests,
    serve: (next) => {
      keys = next;
    },
    failWith: (next) => {
      status = next;
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      })),
  };
  cleanups.push(() => jwks.stop());
  return jwks;
}

async function makeKey(alg: string, kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : undefined);
  return { kid, alg, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const now = (): number => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'user-1',
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 300,
    jti: 'token-1',
    roles: ['reader'],
    tenant_id: 'acme',
    jurisdiction: 'EU-DE',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base as JWTPayload;
}

/** A token signed by jose with `key` (header: alg, kid, typ at+jwt, plus `header`). */
function mint(key: KeyPair, payload: JWTPayload = claims(), header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

/** A token built by hand and signed RS256 with WebCrypto: for headers jose refuses to produce. */
async function rawRs256(key: KeyPair, header: object, payload: object | Uint8Array): Promise<string> {
  const body = payload instanceof Uint8Array ? b64(payload) : b64(JSON.stringify(payload));
  const input = `${b64(JSON.stringify(header))}.${body}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, Buffer.from(input));
  return `${input}.${b64(new Uint8Array(signature))}`;
}

async function failureOf(verifier: TokenVerifier, token: string): Promise<TokenFailure> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenVerificationError);
    const refused = error as TokenVerificationError;
    // Safe to show to the caller: short, one line, no key material.
    expect(refused.message.length).toBeLessThan(80);
    expect(refused.message).not.toMatch(/BEGIN|eyJ|\n/);
    return refused.failure;
  }
  throw new Error('token was accepted');
}

let rsa: KeyPair;
let rsaNext: KeyPair;
let ec: KeyPair;
let ed: KeyPair;
let attacker: KeyPair;

beforeAll(async () => {
  [rsa, rsaNext, ec, ed, attacker] = await Promise.all([
    makeKey('RS256', 'rsa-2026-01'),
    makeKey('RS256', 'rsa-2026-02'),
    makeKey('ES256', 'ec-2026-01'),
    makeKey('EdDSA', 'ed-2026-01'),
    makeKey('RS256', 'attacker-1'),
  ]);
});

async function setup(
  options: Partial<TokenVerifierOptions> = {},
  keys: KeyPair[] = [rsa, ec, ed],
): Promise<{ verifier: TokenVerifier; jwks: JwksServer }> {
  const jwks = await startJwksServer(keys);
  const verifier = createTokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri: jwks.url }], audience: AUDIENCE, ...options });
  return { verifier, jwks };
}

describe('token verifier: valid tokens', () => {
  it.each(KNOWN_ROLES)('accepts a token for role %s', async (role) => {
    const { verifier } = await setup();
    const iat = now();
    const verified = await verifier.verify(await mint(rsa, claims({ roles: [role], iat, exp: iat + 300 })));
    expect(verified).toEqual({
      subject: 'user-1',
      issuer: ISSUER,
      roles: [role],
      tenantId: 'acme',
      jurisdiction: 'EU-DE',
      expiresAt: new Date((iat + 300) * 1000),
      issuedAt: new Date(iat * 1000),
      tokenId: 'token-1',
    });
  });

  it('accepts ES256 and EdDSA tokens, and typ application/at+jwt in any case', async () => {
    const { verifier } = await setup();
    await expect(verifier.verify(await mint(ec))).resolves.toMatchObject({ subject: 'user-1' });
    await expect(verifier.verify(await mint(ed))).resolves.toMatchObject({ subject: 'user-1' });
    await expect(verifier.verify(await mint(rsa, claims(), { typ: 'application/AT+JWT' }))).resolves.toBeDefined();
  });

  it('reads roles from a groups claim when mapped, and from a space-separated string', async () => {
    const { verifier: groups } = await setup({ claims: { roles: 'groups' } });
    const token = await mint(rsa, claims({ roles: ['platform-admin'], groups: ['auditor', 'wheel', 'reader', 'auditor'] }));
    expect((await groups.verify(token)).roles).toEqual(['auditor', 'reader']);

    const { verifier } = await setup();
    const spaced = await mint(rsa, claims({ roles: 'reader  tenant-admin root\tauditor' }));
    expect((await verifier.verify(spaced)).roles).toEqual(['reader', 'tenant-admin', 'auditor']);
    expect((await verifier.verify(await mint(rsa, claims({ roles: undefined })))).roles).toEqual([]);
  });

  it('maps tenant and jurisdiction claims, and refuses a tenant id that is not one', async () => {
    const { verifier } = await setup({ claims: { tenant: 'org', jurisdiction: 'jur' } });
    const verified = await verifier.verify(await mint(rsa, claims({ org: 'globex-eu', jur: 'EU-FR' })));
    expect(verified).toMatchObject({ tenantId: 'globex-eu', jurisdiction: 'EU-FR' });
    expect(await failureOf(verifier, await mint(rsa, claims({ org: '../acme' })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ org: 'Acme' })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ org: ['acme'] })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ jur: 42 })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ roles: { admin: true } })))).toBe('claims');
  });

  it('works with a local key set (jwks option) and never fetches', async () => {
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, jwks: { keys: [ec.publicJwk] } }],
      audience: AUDIENCE,
      algorithms: ['ES256'],
    });
    await expect(verifier.verify(await mint(ec))).resolves.toMatchObject({ subject: 'user-1', tenantId: 'acme' });
    expect(await failureOf(verifier, await mint(rsa))).toBe('algorithm');
    const otherEc = await makeKey('ES256', 'ec-2026-01');
    expect(await failureOf(verifier, await mint(otherEc))).toBe('signature');
  });
});

describe('token verifier: time claims (checklist 41)', () => {
  it('checklist 41: refuses an expired token', async () => {
    const { verifier } = await setup();
    const token = await mint(rsa, claims({ iat: now() - 600, exp: now() - 120 }));
    expect(await failureOf(verifier, token)).toBe('expired');
  });

  it('checklist 41: refuses a token whose nbf is in the future', async () => {
    const { verifier } = await setup();
    expect(await failureOf(verifier, await mint(rsa, claims({ nbf: now() + 120 })))).toBe('not_yet_valid');
  });

  it('checklist 41: refuses a token older than maxTokenAge', async () => {
    const { verifier } = await setup({ maxTokenAgeSeconds: 60 });
    expect(await failureOf(verifier, await mint(rsa, claims({ iat: now() - 600 })))).toBe('too_old');
    await expect(verifier.verify(await mint(rsa, claims({ iat: now() - 45 })))).resolves.toBeDefined();
  });

  it('checklist 41: accepts clock skew within the tolerance and refuses it beyond', async () => {
    const { verifier } = await setup({ clockSkewSeconds: 30 });
    await expect(verifier.verify(await mint(rsa, claims({ iat: now() - 600, exp: now() - 10 })))).resolves.toBeDefined();
    expect(await failureOf(verifier, await mint(rsa, claims({ iat: now() - 600, exp: now() - 45 })))).toBe('expired');
    await expect(verifier.verify(await mint(rsa, claims({ nbf: now() + 15 })))).resolves.toBeDefined();
    expect(await failureOf(verifier, await mint(rsa, claims({ nbf: now() + 60 })))).toBe('not_yet_valid');
    await expect(verifier.verify(await mint(rsa, claims({ iat: now() + 15 })))).resolves.toBeDefined();
    expect(await failureOf(verifier, await mint(rsa, claims({ iat: now() + 600 })))).toBe('not_yet_valid');
  });

  it('refuses a token without exp or iat, or with a non-numeric exp', async () => {
    const { verifier } = await setup();
    expect(await failureOf(verifier, await mint(rsa, claims({ exp: undefined })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ iat: undefined })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ exp: `${now() + 300}` })))).toBe('claims');
  });
});

describe('token verifier: issuer, audience, subject (checklist 40)', () => {
  it('checklist 40: refuses an issuer that is not in the allowlist, without fetching its keys', async () => {
    const { verifier, jwks } = await setup();
    const evil = await startJwksServer([attacker]);
    const token = await mint(attacker, claims({ iss: 'https://evil.example.test' }), {});
    expect(await failureOf(verifier, token)).toBe('issuer');
    expect(await failureOf(verifier, await mint(rsa, claims({ iss: `${ISSUER}/` })))).toBe('issuer');
    expect(await failureOf(verifier, await mint(rsa, claims({ iss: undefined })))).toBe('issuer');
    expect(await failureOf(verifier, await mint(rsa, claims({ iss: [ISSUER] })))).toBe('issuer');
    expect(evil.requests).toEqual([]);
    expect(jwks.requests).toEqual([]);
  });

  it("refuses a token naming another trusted issuer but signed with the first issuer's key", async () => {
    const jwks = await startJwksServer([rsa]);
    const other = await makeKey('RS256', 'partner-1');
    const verifier = createTokenVerifier({
      issuers: [
        { issuer: ISSUER, jwksUri: jwks.url },
        { issuer: 'https://partner.example.test', jwks: { keys: [other.publicJwk] } },
      ],
      audience: AUDIENCE,
    });
    // The unverified iss picks the partner's key set, which does not hold our key.
    expect(await failureOf(verifier, await mint(rsa, claims({ iss: 'https://partner.example.test' })))).toBe('unknown_key');
    // Same kid as the partner's key, but our signature.
    const forged = await mint({ ...rsa, kid: 'partner-1' }, claims({ iss: 'https://partner.example.test' }));
    expect(await failureOf(verifier, forged)).toBe('signature');
    await expect(verifier.verify(await mint(other, claims({ iss: 'https://partner.example.test' })))).resolves.toMatchObject({
      issuer: 'https://partner.example.test',
    });
    expect(jwks.requests).toEqual([]);
  });

  it('checklist 40: refuses a wrong, missing or foreign-only audience and accepts an array that names us', async () => {
    const { verifier } = await setup();
    expect(await failureOf(verifier, await mint(rsa, claims({ aud: 'billing-api' })))).toBe('audience');
    expect(await failureOf(verifier, await mint(rsa, claims({ aud: undefined })))).toBe('audience');
    expect(await failureOf(verifier, await mint(rsa, claims({ aud: ['billing-api', 'ecs-gateway-staging'] })))).toBe('audience');
    expect(await failureOf(verifier, await mint(rsa, claims({ aud: [] })))).toBe('audience');
    await expect(verifier.verify(await mint(rsa, claims({ aud: ['billing-api', AUDIENCE] })))).resolves.toBeDefined();
  });

  it('refuses a token without a subject', async () => {
    const { verifier } = await setup();
    expect(await failureOf(verifier, await mint(rsa, claims({ sub: undefined })))).toBe('claims');
    expect(await failureOf(verifier, await mint(rsa, claims({ sub: '' })))).toBe('claims');
  });
});

describe('token verifier: algorithms (checklist 37-39)', () => {
  it('checklist 37: refuses alg none, however spelled, before fetching any key', async () => {
    const { verifier, jwks } = await setup();
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64(JSON.stringify({ alg, typ: 'at+jwt' }))}.${b64(JSON.stringify(claims()))}.`;
      expect(await failureOf(verifier, token)).toBe('algorithm');
    }
    expect(jwks.requests).toEqual([]);
  });

  it('checklist 38: refuses HS256 signed with the RSA public key (PEM or modulus) as the HMAC secret', async () => {
    const { verifier, jwks } = await setup();
    const pem = await exportSPKI(rsa.publicKey);
    for (const secret of [Buffer.from(pem), Buffer.from(rsa.publicJwk.n!, 'base64url'), Buffer.from(rsa.publicJwk.n!)]) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' }).sign(secret);
      expect(await failureOf(verifier, token)).toBe('algorithm');
    }
    expect(jwks.requests).toEqual([]);
  });

  it('checklist 39: refuses RS512, PS384 and ES256K, which are not in the allowlist', async () => {
    const [rs512, ps384] = await Promise.all([makeKey('RS512', 'rs512'), makeKey('PS384', 'ps384')]);
    const { verifier, jwks } = await setup({}, [rsa, rs512, ps384]);
    expect(await failureOf(verifier, await mint(rs512))).toBe('algorithm');
    expect(await failureOf(verifier, await mint(ps384))).toBe('algorithm');

    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const input = `${b64(JSON.stringify({ alg: 'ES256K', kid: 'k1', typ: 'at+jwt' }))}.${b64(JSON.stringify(claims()))}`;
    const signature = nodeSign('sha256', Buffer.from(input), { key: k1.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(await failureOf(verifier, `${input}.${b64(signature)}`)).toBe('algorithm');
    expect(jwks.requests).toEqual([]);

    // Allowlisted explicitly, RS512 is accepted.
    const { verifier: wide } = await setup({ algorithms: ['RS256', 'RS512'] }, [rsa, rs512]);
    await expect(wide.verify(await mint(rs512))).resolves.toBeDefined();
  });

  it('cannot be constructed with a symmetric, none or unknown algorithm', () => {
    const base = { issuers: [{ issuer: ISSUER, jwks: { keys: [ec.publicJwk] } }], audience: AUDIENCE };
    expect(() => createTokenVerifier({ ...base, algorithms: ['RS256', 'HS256'] })).toThrow(/HS256.*never accepted/);
    expect(() => createTokenVerifier({ ...base, algorithms: ['hs512'] })).toThrow(/never accepted/);
    expect(() => createTokenVerifier({ ...base, algorithms: ['none'] })).toThrow(/never accepted/);
    expect(() => createTokenVerifier({ ...base, algorithms: ['ES256K'] })).toThrow(/unsupported/);
    expect(() => createTokenVerifier({ ...base, algorithms: [] })).toThrow(/empty/);
  });

  it('refuses a tampered payload that keeps the original signature', async () => {
    const { verifier } = await setup();
    const [header, payload, signature] = (await mint(rsa)).split('.') as [string, string, string];
    const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['platform-admin'] };
    expect(await failureOf(verifier, `${header}.${b64(JSON.stringify(changed))}.${signature}`)).toBe('signature');
    const flipped = signature.slice(0, -2) + (signature.endsWith('A') ? 'BB' : 'AA');
    expect(await failureOf(verifier, `${header}.${payload}.${flipped}`)).toBe('signature');
  });
});

describe('token verifier: key sets (checklist 43-44)', () => {
  it('checklist 43: re-fetches the JWKS at most once for 1,000 tokens with unknown kids', async () => {
    const { verifier, jwks } = await setup();
    await expect(verifier.verify(await mint(rsa))).resolves.toBeDefined();
    for (let index = 0; index < 1000; index += 1) {
      const token = await mint({ ...rsa, kid: `unknown-${index}` });
      expect(await failureOf(verifier, token)).toBe('unknown_key');
    }
    // Concurrent unknown kids share the (cooling-down) key set as well.
    const burst = await Promise.all(Array.from({ length: 50 }, (_, index) => mint({ ...rsa, kid: `burst-${index}` })));
    expect(new Set(await Promise.all(burst.map((token) => failureOf(verifier, token))))).toEqual(new Set(['unknown_key']));
    expect(jwks.requests.length).toBeGreaterThanOrEqual(1);
    expect(jwks.requests.length).toBeLessThanOrEqual(2);
    expect(new Set(jwks.requests)).toEqual(new Set(['/jwks']));
  });

  it('picks up a rotated key once the 30 s cooldown since the last fetch has passed', async () => {
    const { verifier, jwks } = await setup({}, [rsa]);
    await expect(verifier.verify(await mint(rsa))).resolves.toBeDefined();
    expect(jwks.requests).toHaveLength(1);

    jwks.serve([rsa, rsaNext]);
    const next = await mint(rsaNext);
    // Within the cooldown jose does not refetch for an unknown kid.
    expect(await failureOf(verifier, next)).toBe('unknown_key');
    expect(jwks.requests).toHaveLength(1);

    // jose's cooldown reads Date.now(); move it past 30 s (token times use new Date(), unaffected).
    const realNow = Date.now.bind(Date);
    let offset = 31_000;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    await expect(verifier.verify(next)).resolves.toMatchObject({ subject: 'user-1' });
    expect(jwks.requests).toHaveLength(2);
    await expect(verifier.verify(await mint(rsa))).resolves.toBeDefined();
    await expect(verifier.verify(next)).resolves.toBeDefined();
    expect(jwks.requests).toHaveLength(2);

    // The old key retired at the server stays trusted until the cache (10 min) is stale.
    jwks.serve([rsaNext]);
    await expect(verifier.verify(await mint(rsa))).resolves.toBeDefined();
    offset = 31_000 + 601_000;
    expect(await failureOf(verifier, await mint(rsa))).toBe('unknown_key');
    expect(jwks.requests).toHaveLength(3);
  });

  it('uses a key rotated in before the first fetch', async () => {
    const { verifier, jwks } = await setup({}, [rsa]);
    jwks.serve([rsa, rsaNext]);
    await expect(verifier.verify(await mint(rsaNext))).resolves.toBeDefined();
    await expect(verifier.verify(await mint(rsa))).resolves.toBeDefined();
    expect(jwks.requests).toHaveLength(1);
  });

  it('tries every matching key when the token has no kid', async () => {
    const { verifier } = await setup({}, [rsa, rsaNext]);
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(rsaNext.privateKey);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    const foreign = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(attacker.privateKey);
    expect(await failureOf(verifier, foreign)).toBe('signature');
  });

  it('reports an unreachable or broken JWKS endpoint as unknown_key with its own message', async () => {
    const { verifier, jwks } = await setup();
    jwks.failWith(500);
    await expect(verifier.verify(await mint(rsa))).rejects.toMatchObject({
      failure: 'unknown_key',
      message: "the issuer's signing keys are unavailable",
    });
    const down = await startJwksServer([rsa]);
    const verifierDown = createTokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri: down.url }], audience: AUDIENCE });
    await down.stop();
    await expect(verifierDown.verify(await mint(rsa))).rejects.toMatchObject({ failure: 'unknown_key' });
  });

  it('checklist 44: never fetches or trusts keys named by jku, x5u, jwk or x5c headers', async () => {
    const { verifier, jwks } = await setup();
    const evil = await startJwksServer([attacker]);
    const evilClaims = claims({ roles: ['platform-admin'] });
    const cases: Array<Record<string, unknown>> = [
      { jku: evil.url },
      { x5u: evil.url.replace('/jwks', '/cert.pem') },
      { jwk: attacker.publicJwk },
      { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
      { jku: evil.url, kid: rsa.kid },
    ];
    for (const header of cases) {
      expect(await failureOf(verifier, await mint(attacker, evilClaims, header))).toBe('malformed');
    }
    expect(evil.requests).toEqual([]);
    expect(jwks.requests).toEqual([]);
  });

  it('checklist 44: treats kid as an opaque name: traversal and SQL find no key, long or control characters are refused', async () => {
    const { verifier, jwks } = await setup();
    for (const kid of ['../../../../etc/passwd', "rsa-2026-01' OR '1'='1", '%2e%2e%2fjwks', 'rsa-2026-01\u200b']) {
      expect(await failureOf(verifier, await mint({ ...rsa, kid }))).toBe('unknown_key');
    }
    expect(new Set(jwks.requests)).toEqual(new Set(['/jwks']));

    expect(await failureOf(verifier, await mint({ ...rsa, kid: 'k'.repeat(10_000) }))).toBe('malformed');
    const roomy = createTokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri: jwks.url }], audience: AUDIENCE, maxTokenLength: 100_000 });
    for (const kid of ['k'.repeat(10_000), 'k'.repeat(257), 'rsa\u0000', 'rsa\nx', '']) {
      await expect(roomy.verify(await mint({ ...rsa, kid }))).rejects.toMatchObject({
        failure: 'malformed',
        message: 'token key id is invalid',
      });
    }
    expect(await failureOf(roomy, await rawRs256(rsa, { alg: 'RS256', kid: 7, typ: 'at+jwt' }, claims()))).toBe('malformed');
  });
});

describe('token verifier: malformed tokens (checklist 45)', () => {
  it('checklist 45: refuses a crit header', async () => {
    const { verifier } = await setup();
    const token = await rawRs256(rsa, { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', crit: ['unknown'], unknown: true }, claims());
    expect(await failureOf(verifier, token)).toBe('malformed');
    const b64false = await rawRs256(rsa, { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', crit: ['b64'], b64: false }, claims());
    expect(await failureOf(verifier, b64false)).toBe('malformed');
  });

  it('checklist 45: refuses broken encodings, wrong segment counts, non-UTF-8 and oversized tokens', async () => {
    const { verifier, jwks } = await setup();
    const valid = await mint(rsa);
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const cases = [
      '',
      'not a token',
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.${signature}`,
      `${header}.${payload}.${signature}.x.y`,
      `${header}$.${payload}.${signature}`,
      `${header}.${payload}=.${signature}`,
      `${header}.${payload}.${signature}+/`,
      `${header}..${signature}`,
      `.${payload}.${signature}`,
      `${b64('{"alg":"RS256",')}.${payload}.${signature}`,
      `${b64('["RS256"]')}.${payload}.${signature}`,
      `${header}.${b64('[1,2]')}.${signature}`,
      `${header}.${b64('not json')}.${signature}`,
      ` ${valid}`,
      `Bearer ${valid}`,
    ];
    for (const token of cases) expect([token, await failureOf(verifier, token)]).toEqual([token, 'malformed']);

    // Invalid UTF-8 in the payload, with a valid signature over it.
    const nonUtf8 = Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    expect(await failureOf(verifier, await rawRs256(rsa, { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' }, nonUtf8))).toBe('malformed');

    // A 100 KB header is refused on its length, before any decoding.
    const huge = await rawRs256(rsa, { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', pad: 'x'.repeat(100_000) }, claims());
    await expect(verifier.verify(huge)).rejects.toMatchObject({ failure: 'malformed', message: 'token is too long' });
    expect(jwks.requests).toEqual([]);
  });

  it('checklist 42: refuses ID tokens and refresh tokens presented as access tokens (typ)', async () => {
    const { verifier } = await setup();
    const idToken = await mint(rsa, claims({ nonce: 'n-0S6_WzA2Mj', auth_time: now(), azp: 'web-client' }), { typ: 'JWT' });
    expect(await failureOf(verifier, idToken)).toBe('type');
    // Keycloak-style refresh token: typ JWT in the header, "Refresh" in the claims.
    const refresh = await mint(rsa, claims({ typ: 'Refresh' }), { typ: 'JWT' });
    expect(await failureOf(verifier, refresh)).toBe('type');
    const noTyp = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).sign(rsa.privateKey);
    expect(await failureOf(verifier, noTyp)).toBe('type');
    expect(await failureOf(verifier, await mint(rsa, claims(), { typ: 'logout+jwt' }))).toBe('type');
    expect(await failureOf(verifier, await mint(rsa, claims(), { typ: 'dpop+jwt' }))).toBe('type');

    const { verifier: lenient } = await setup({ allowedTypes: ['at+jwt', 'JWT'] });
    await expect(lenient.verify(idToken)).resolves.toBeDefined();
  });
});

describe('token verifier: configuration', () => {
  it('refuses bad issuer configurations at construction', () => {
    const audience = AUDIENCE;
    expect(() => createTokenVerifier({ issuers: [], audience })).toThrow(/issuer/);
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER }], audience })).toThrow(/exactly one/);
    expect(() =>
      createTokenVerifier({
        issuers: [{ issuer: ISSUER, jwksUri: 'https://idp.example.test/jwks', jwks: { keys: [ec.publicJwk] } }],
        audience,
      }),
    ).toThrow(/exactly one/);
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri: 'http://idp.example.test/jwks' }], audience })).toThrow(
      /https/,
    );
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri: 'file:///etc/jwks.json' }], audience })).toThrow(/https/);
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }], audience })).toThrow(
      /public/,
    );
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER, jwks: { keys: [] } }], audience })).toThrow(/no key/);
    expect(() =>
      createTokenVerifier({
        issuers: [
          { issuer: ISSUER, jwks: { keys: [ec.publicJwk] } },
          { issuer: ISSUER, jwks: { keys: [ec.publicJwk] } },
        ],
        audience,
      }),
    ).toThrow(/twice/);
    expect(() => createTokenVerifier({ issuers: [{ issuer: ISSUER, jwks: { keys: [ec.publicJwk] } }], audience: '' })).toThrow(/audience/);
  });
});
