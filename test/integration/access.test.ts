import { readFile } from 'node:fs/promises';
import { SignJWT, importJWK } from 'jose';
import type { JWK } from 'jose';
import { DEV_ISSUER } from '../../lib/auth/dev-issuer';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const WHOAMI = '{ whoami { subject roles tenantId authMethod expiresAt scopes apiKeyId } }';
const EVENTS = `query($f: EventFilter) { events(filter: $f, first: 1000) { items { eventType outcome evidencePointer refusalReasonClass refusalReasonCode refusalSubject correlationId authoritySnapshotId actor details } } }`;

interface Refused {
  eventType: string;
  outcome: string;
  evidencePointer: string;
  refusalReasonClass: string;
  refusalReasonCode: string;
  refusalSubject: string;
  correlationId: string;
  authoritySnapshotId: string | null;
  actor: string;
  details: Record<string, unknown>;
}

describe('identity and access', () => {
  let env: TestStack;
  const [tenantA, tenantB] = [uniqueId('a'), uniqueId('b')];
  let workloadB: string;
  let bucketB: string;

  /** Events of a chain, as a platform-wide auditor sees them. */
  async function chain(tenantId: string): Promise<Refused[]> {
    const auditor = await env.token('auditor');
    const result = await env.gqlAs<{ events: { items: Refused[] } }>(auditor, EVENTS, { f: { tenantId } });
    expect(result.errors).toBeUndefined();
    return result.data!.events.items;
  }

  /** Runs `action`, expects one refusal with `code`, and exactly one new refused event carrying its pointer in `chainOf`. */
  async function expectRefusal(
    chainOf: string,
    action: () => Promise<{ errors?: Array<{ extensions?: Record<string, unknown> }>; status?: number }>,
    code: string,
    reason: Partial<Refused>,
  ): Promise<Refused> {
    const before = (await chain(chainOf)).length;
    const result = await action();
    const extensions = result.errors?.[0]?.extensions ?? {};
    expect(extensions.code).toBe(code);
    expect(extensions.evidence_pointer).toMatch(/^eosc:\/\/evidence\/sha256:[0-9a-f]{64}$/);
    const after = await chain(chainOf);
    expect(after).toHaveLength(before + 1);
    const event = after[after.length - 1]!;
    expect(event).toMatchObject({ outcome: 'refused', evidencePointer: extensions.evidence_pointer, ...reason });
    expect(event.correlationId).toEqual(expect.any(String));
    return event;
  }

  beforeAll(async () => {
    env = await startTestStack();
    for (const id of [tenantA, tenantB]) expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    const workload = await env.gql<{ createWorkload: { id: string } }>(CREATE_WORKLOAD, {
      input: { tenantId: tenantB, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
    });
    workloadB = workload.data!.createWorkload.id;
    bucketB = uniqueId('bkt');
    const bucket = await env.gql(`mutation($i: CreateBucketInput!) { createBucket(input: $i) { name } }`, {
      i: { name: bucketB, tenantId: tenantB, jurisdiction: 'DE' },
    });
    expect(bucket.errors).toBeUndefined();
  });
  afterAll(() => env.stop());

  describe('bearer tokens', () => {
    it.each([
      ['platform-admin', undefined],
      ['tenant-admin', 'acme'],
      ['auditor', undefined],
      ['reader', 'acme'],
    ] as const)('whoami answers for a valid %s token', async (role, tenantId) => {
      const token = await env.token(role, tenantId);
      const result = await env.gqlAs<{ whoami: Record<string, unknown> }>(token, WHOAMI);
      expect(result.errors).toBeUndefined();
      expect(result.data!.whoami).toMatchObject({ roles: [role], tenantId: tenantId ?? null, authMethod: 'dev-issuer' });
      expect(Date.parse(result.data!.whoami.expiresAt as string)).toBeGreaterThan(Date.now());
    });

    it('answers 401 with an evidence pointer without credentials, with bad ones, and records the refusal in the platform chain', async () => {
      const keyFile = JSON.parse(await readFile(`${env.dataDir}/keys/dev-issuer.json`, 'utf8')) as {
        privateJwk: JWK;
        kid: string;
      };
      const key = await importJWK(keyFile.privateJwk, 'ES256');
      const now = Math.floor(Date.now() / 1000);
      const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
        new SignJWT({ roles: ['platform-admin'], ...claims })
          .setProtectedHeader({ alg: 'ES256', kid: keyFile.kid, typ: 'at+jwt', ...header })
          .sign(key);
      const base = { iss: DEV_ISSUER, aud: 'ecs-gateway', sub: 'mallory', iat: now - 10, exp: now + 600 };
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const valid = await sign(base);
      const [header, payload, signature] = valid.split('.');
      const cases: Array<[string, string | { apiKey: string } | undefined]> = [
        ['no credentials', undefined],
        ['expired', await sign({ ...base, iat: now - 7200, exp: now - 3600 })],
        ['not yet valid', await sign({ ...base, nbf: now + 3600 })],
        ['wrong issuer', await sign({ ...base, iss: 'https://evil.example' })],
        ['wrong audience', await sign({ ...base, aud: 'someone-else' })],
        ['alg none', `${encode({ alg: 'none', typ: 'at+jwt' })}.${payload}.`],
        ['tampered payload', `${header}.${encode({ ...base, sub: 'root', roles: ['platform-admin'] })}.${signature}`],
        ['unknown kid', await sign(base, { kid: 'no-such-key' })],
        ['api key garbage', { apiKey: 'ecs_nope' }],
      ];
      const platformBefore = (await chain('_platform')).length;
      for (const [name, credential] of cases) {
        const result = await env.gqlAs(credential, WHOAMI);
        expect({ name, status: result.status }).toEqual({ name, status: 401 });
        expect(result.errors?.[0]?.extensions?.code).toBe('ECS_UNAUTHENTICATED');
        expect(result.errors?.[0]?.extensions?.evidence_pointer).toMatch(/^eosc:\/\/evidence\/sha256:/);
      }
      const refusals = (await chain('_platform')).slice(platformBefore);
      expect(refusals.length).toBeGreaterThanOrEqual(1);
      for (const refusal of refusals) {
        expect(refusal).toMatchObject({
          eventType: 'authority.refusal',
          outcome: 'refused',
          refusalReasonClass: 'authority_missing_or_invalid',
        });
      }
      // The valid token built the same way is accepted: the cases above fail for their defect alone.
      expect((await env.gqlAs(valid, WHOAMI)).status).toBe(200);
    });
  });

  describe('across tenants (BOLA)', () => {
    it('checklist 28, checklist 46: refuses every read and write of tenant B by tenant A, each with exactly one evidence event in B’s chain', async () => {
      const adminA = await env.token('tenant-admin', tenantA);
      const reason = { refusalReasonClass: 'authority_missing_or_invalid', refusalReasonCode: 'outside_tenant_scope' };
      const attempts: Array<[string, string, Record<string, unknown>]> = [
        ['tenant.read', 'query($id: ID!) { tenant(id: $id) { id } }', { id: tenantB }],
        ['workload.read', 'query($id: ID!) { workload(id: $id) { id } }', { id: workloadB }],
        ['storage.read', 'query($n: ID!) { bucket(name: $n) { name } }', { n: bucketB }],
        ['evidence.read', 'query($t: ID!) { events(filter: { tenantId: $t }) { items { id } } }', { t: tenantB }],
        ['evidence.read', 'query($t: ID!) { verifyChain(tenantId: $t) { valid } }', { t: tenantB }],
        ['evidence.read', 'query($t: ID!) { chainHead(tenantId: $t) { sequence } }', { t: tenantB }],
        [
          'workload.deploy',
          CREATE_WORKLOAD,
          { input: { tenantId: tenantB, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } },
        ],
        [
          'storage.write',
          'mutation($i: CreateBucketInput!) { createBucket(input: $i) { name } }',
          { i: { name: uniqueId('x'), tenantId: tenantB, jurisdiction: 'DE' } },
        ],
        [
          'apikey.manage',
          'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
          { i: { tenantId: tenantB, name: 'x', scopes: ['workload.read'] } },
        ],
      ];
      for (const [action, query, variables] of attempts) {
        const event = await expectRefusal(tenantB, () => env.gqlAs(adminA, query, variables), 'ECS_FORBIDDEN', {
          ...reason,
          refusalSubject: action,
        });
        expect(event.actor).toBe(`tenant-admin@${tenantA}`);
      }
      const listed = await env.gqlAs<{ tenants: { items: Array<{ id: string }> } }>(adminA, '{ tenants { items { id } } }');
      expect(listed.data!.tenants.items.map((tenant) => tenant.id)).toEqual([tenantA]);
    });

    it('refuses actions outside a role', async () => {
      const reader = await env.token('reader', tenantA);
      await expectRefusal(
        tenantA,
        () =>
          env.gqlAs(reader, CREATE_WORKLOAD, {
            input: { tenantId: tenantA, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
          }),
        'ECS_FORBIDDEN',
        { refusalReasonCode: 'role_not_permitted', refusalSubject: 'workload.deploy' },
      );
      const auditor = await env.token('auditor', tenantA);
      await expectRefusal('_platform', () => env.gqlAs(auditor, CREATE_TENANT, { input: tenantInput(uniqueId()) }), 'ECS_FORBIDDEN', {
        refusalReasonCode: 'role_not_permitted',
      });
      // An auditor of A reads A's evidence.
      const events = await env.gqlAs<{ events: { items: unknown[] } }>(auditor, '{ events { items { id } } }');
      expect(events.errors).toBeUndefined();
      expect(events.data!.events.items.length).toBeGreaterThan(0);
    });
  });

  describe('API keys', () => {
    const CREATE_KEY = `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id prefix scopes tenantId } } }`;

    async function createKey(scopes: string[], expiresAt?: string) {
      const admin = await env.token('tenant-admin', tenantA);
      const created = await env.gqlAs<{ createApiKey: { secret: string; apiKey: { id: string; prefix: string } } }>(admin, CREATE_KEY, {
        i: { tenantId: tenantA, name: 'ci', scopes, expiresAt },
      });
      expect(created.errors).toBeUndefined();
      return created.data!.createApiKey;
    }

    it('is shown once, stored only as a hash, acts within its tenant and scopes, and stops when revoked', async () => {
      const { secret, apiKey } = await createKey(['workload.read', 'tenant.read']);
      expect(secret.startsWith(`ecs_${apiKey.prefix}_`)).toBe(true);
      const row = await env.stack.services.db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      const secretPart = secret.slice(`ecs_${apiKey.prefix}_`.length);
      expect(secretPart).toHaveLength(43);
      expect(JSON.stringify(row)).not.toContain(secretPart);

      const who = await env.gqlAs<{ whoami: { authMethod: string; tenantId: string; apiKeyId: string; scopes: string[] } }>(
        { apiKey: secret },
        WHOAMI,
      );
      expect(who.data!.whoami).toMatchObject({
        authMethod: 'api-key',
        tenantId: tenantA,
        apiKeyId: apiKey.id,
        scopes: ['workload.read', 'tenant.read'],
      });
      const own = await env.gqlAs({ apiKey: secret }, 'query($id: ID!) { tenant(id: $id) { id workloads { id } } }', { id: tenantA });
      expect(own.errors).toBeUndefined();

      await expectRefusal(
        tenantA,
        () =>
          env.gqlAs({ apiKey: secret }, CREATE_WORKLOAD, {
            input: { tenantId: tenantA, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
          }),
        'ECS_FORBIDDEN',
        { refusalReasonCode: 'api_key_scope_missing', refusalSubject: 'workload.deploy' },
      );
      await expectRefusal(
        tenantB,
        () => env.gqlAs({ apiKey: secret }, 'query($id: ID!) { tenant(id: $id) { id } }', { id: tenantB }),
        'ECS_FORBIDDEN',
        {
          refusalReasonCode: 'outside_tenant_scope',
        },
      );

      const listed = await env.gql<{ tenant: { apiKeys: Array<Record<string, unknown>> } }>(
        'query($id: ID!) { tenant(id: $id) { apiKeys { id prefix lastUsedAt revokedAt } } }',
        { id: tenantA },
      );
      const mine = listed.data!.tenant.apiKeys.find((key) => key.id === apiKey.id)!;
      expect(mine.lastUsedAt).toEqual(expect.any(String));
      expect(JSON.stringify(listed)).not.toContain(secret);

      const admin = await env.token('tenant-admin', tenantA);
      const revoked = await env.gqlAs<{ revokeApiKey: { revokedAt: string } }>(
        admin,
        'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }',
        { id: apiKey.id },
      );
      expect(revoked.data!.revokeApiKey.revokedAt).toEqual(expect.any(String));
      const after = await env.gqlAs({ apiKey: secret }, WHOAMI);
      expect(after.status).toBe(401);
      expect(after.errors?.[0]?.extensions?.code).toBe('ECS_UNAUTHENTICATED');
    });

    it('stops at its expiry', async () => {
      const { secret } = await createKey(['tenant.read'], new Date(Date.now() + 1500).toISOString());
      expect((await env.gqlAs({ apiKey: secret }, WHOAMI)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1700));
      const expired = await env.gqlAs({ apiKey: secret }, WHOAMI);
      expect(expired.status).toBe(401);
      expect(expired.errors?.[0]?.message).toBe('API key is expired');
    });

    it('refuses scopes beyond a tenant administrator', async () => {
      const admin = await env.token('tenant-admin', tenantA);
      const result = await env.gqlAs(admin, CREATE_KEY, { i: { tenantId: tenantA, name: 'x', scopes: ['tenant.create'] } });
      expect(result.errors?.[0]?.extensions?.code).toBe('ECS_VALIDATION_FAILED');
    });
  });

  describe('authority bindings', () => {
    const CREATE_BINDING = `mutation($i: CreateAuthorityBindingInput!) { createAuthorityBinding(input: $i) { id version snapshotId scopes versions { version snapshotId } } }`;
    const day = 24 * 3600 * 1000;

    it('are versioned and immutable, and only platform administrators create them', async () => {
      const id = uniqueId('auth');
      const input = {
        id,
        subject: 'acme-board',
        scopes: ['tenant.create'],
        issuer: 'urn:acme',
        validFrom: new Date(Date.now() - day).toISOString(),
        validUntil: new Date(Date.now() + day).toISOString(),
        proofRef: 'doc:1',
      };
      const first = await env.gql<{ createAuthorityBinding: { version: number; snapshotId: string } }>(CREATE_BINDING, { i: input });
      expect(first.data!.createAuthorityBinding).toMatchObject({
        version: 1,
        snapshotId: expect.stringMatching(/^authsnap:sha256:[0-9a-f]{64}$/),
      });
      const second = await env.gql<{
        createAuthorityBinding: { version: number; snapshotId: string; versions: Array<{ snapshotId: string }> };
      }>(CREATE_BINDING, {
        i: { ...input, scopes: ['tenant.create', 'workload.deploy'] },
      });
      expect(second.data!.createAuthorityBinding.version).toBe(2);
      expect(second.data!.createAuthorityBinding.versions.map((version) => version.snapshotId)).toEqual([
        first.data!.createAuthorityBinding.snapshotId,
        second.data!.createAuthorityBinding.snapshotId,
      ]);
      await expect(
        env.stack.services.db.prisma.$executeRawUnsafe(`UPDATE identity_authority_bindings SET scopes = '{*}' WHERE binding_id = '${id}'`),
      ).rejects.toThrow(/append-only/);
      const admin = await env.token('tenant-admin', tenantA);
      await expectRefusal('_platform', () => env.gqlAs(admin, CREATE_BINDING, { i: { ...input, id: uniqueId('x') } }), 'ECS_FORBIDDEN', {
        refusalReasonCode: 'role_not_permitted',
        refusalSubject: 'authority.manage',
      });
    });

    it('the seeded auth-dev-001 covers every action for a year', async () => {
      const seeded = await env.gql<{ authorityBinding: { scopes: string[]; validUntil: string } }>(
        '{ authorityBinding(id: "auth-dev-001") { scopes validUntil } }',
      );
      expect(seeded.data!.authorityBinding.scopes).toEqual(['*']);
      expect(Date.parse(seeded.data!.authorityBinding.validUntil) - Date.now()).toBeGreaterThan(360 * day);
    });

    it('governed actions record the snapshot in force and are refused outside its scope or validity', async () => {
      const narrow = uniqueId('auth');
      const created = await env.gql<{ createAuthorityBinding: { snapshotId: string } }>(CREATE_BINDING, {
        i: {
          id: narrow,
          subject: 's',
          scopes: ['tenant.create'],
          issuer: 'urn:x',
          validFrom: new Date(Date.now() - day).toISOString(),
          validUntil: new Date(Date.now() + day).toISOString(),
        },
      });
      const tenant = uniqueId('n');
      expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant, { authorityBinding: narrow }) })).errors).toBeUndefined();
      const [createEvent] = await chain(tenant);
      expect(createEvent).toMatchObject({
        eventType: 'tenant.create',
        authoritySnapshotId: created.data!.createAuthorityBinding.snapshotId,
      });

      await expectRefusal(
        tenant,
        () =>
          env.gql(CREATE_WORKLOAD, { input: { tenantId: tenant, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } }),
        'ECS_FORBIDDEN',
        {
          refusalReasonClass: 'authority_missing_or_invalid',
          refusalReasonCode: 'action_outside_authority_scope',
          authoritySnapshotId: created.data!.createAuthorityBinding.snapshotId,
        },
      );

      const expired = uniqueId('auth');
      await env.gql(CREATE_BINDING, {
        i: {
          id: expired,
          subject: 's',
          scopes: ['*'],
          issuer: 'urn:x',
          validFrom: new Date(Date.now() - 3 * day).toISOString(),
          validUntil: new Date(Date.now() - day).toISOString(),
        },
      });
      await expectRefusal(
        '_platform',
        () => env.gql(CREATE_TENANT, { input: tenantInput(uniqueId(), { authorityBinding: expired }) }),
        'ECS_FORBIDDEN',
        {
          refusalReasonCode: 'authority_expired',
        },
      );
      await expectRefusal(
        '_platform',
        () => env.gql(CREATE_TENANT, { input: tenantInput(uniqueId(), { authorityBinding: 'no-such-binding' }) }),
        'ECS_MISSING_AUTHORITY',
        {
          refusalReasonCode: 'authority_binding_unknown',
        },
      );
    });
  });
});
