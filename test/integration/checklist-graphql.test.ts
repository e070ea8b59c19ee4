import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/** Lines 1-15 of the security checklist: the public GraphQL endpoint of the gateway. */
interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } & Record<
    string,
    unknown
  >;
  text: string;
}

describe('security checklist: GraphQL gateway (production settings)', () => {
  let env: TestStack;
  let tenantId: string;

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Answer['body'] = {};
    try {
      parsed = JSON.parse(text) as Answer['body'];
    } catch {
      parsed = {};
    }
    return { status: response.status, body: parsed, text };
  }
  const query = (document: string, variables?: Record<string, unknown>) => post({ query: document, variables });
  const refused = (answer: Answer, reason?: RegExp) => {
    expect(answer.body.data ?? null).toBeNull();
    expect(answer.body.errors?.length ?? (answer.body.code ? 1 : 0)).toBeGreaterThan(0);
    if (reason) expect(answer.text).toMatch(reason);
  };

  beforeAll(async () => {
    env = await startTestStack({ env: { NODE_ENV: 'production' } });
    tenantId = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
  });
  afterAll(() => env.stop());

  it('checklist 1: introspection is off in production', async () => {
    for (const document of ['{ __schema { types { name } } }', '{ __type(name: "Tenant") { fields { name } } }']) {
      const answer = await query(document);
      refused(answer);
      expect(answer.text).not.toContain('workloads');
    }
    expect((await query('{ __typename }')).body.data).toEqual({ __typename: 'Query' });
  });

  it('checklist 2: a misspelled field gets no "Did you mean" suggestion', async () => {
    const answer = await query('{ tenantz(id: "x") { id } }');
    refused(answer);
    expect(answer.text).not.toMatch(/did you mean/i);
    const argument = await query('{ tenant(idd: "x") { id } }');
    expect(argument.text).not.toMatch(/did you mean/i);
  });

  it('checklist 3: 7+ levels of nesting are refused, also through fragments and inline fragments', async () => {
    const ok = await query(`query($id: ID!) { tenant(id: $id) { workloads(first: 10) { tenant { workloads(first: 10) { id } } } } }`, {
      id: tenantId,
    });
    expect(ok.body.errors).toBeUndefined();
    const deep = `query($id: ID!) { tenant(id: $id) { workloads { tenant { workloads { tenant { workloads { tenant { id } } } } } } } }`;
    refused(await query(deep, { id: tenantId }), /depth limit of 6 exceeded/i);
    const viaFragments = `query($id: ID!) { tenant(id: $id) { ...A } }
      fragment A on Tenant { workloads { tenant { ...B } } }
      fragment B on Tenant { workloads { tenant { ...C } } }
      fragment C on Tenant { workloads { tenant { id } } }`;
    refused(await query(viaFragments, { id: tenantId }), /depth limit of 6 exceeded/i);
    const viaInline = `query($id: ID!) { tenant(id: $id) { ... on Tenant { workloads { tenant { ... on Tenant { workloads { tenant { ... on Tenant { workloads { id } } } } } } } } } }`;
    refused(await query(viaInline, { id: tenantId }), /depth limit of 6 exceeded/i);
  });

  it('checklist 4: 16 aliases of a field, or 1,000 aliased mutations, are refused', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: tenant(id: $id) { id }`).join(' ');
    refused(await query(`query($id: ID!) { ${aliases} }`, { id: tenantId }), /aliases limit of 15 exceeded/i);
    const fifteen = Array.from({ length: 15 }, (_, i) => `a${i}: tenant(id: $id) { id }`).join(' ');
    expect((await query(`query($id: ID!) { ${fifteen} }`, { id: tenantId })).body.errors).toBeUndefined();
    const mutations = Array.from({ length: 1000 }, (_, i) => `m${i}: suspendTenant(id: $id) { id }`).join(' ');
    refused(await query(`mutation($id: ID!) { ${mutations} }`, { id: tenantId }), /limit of/i);
    const status = await query('query($id: ID!) { tenant(id: $id) { status } }', { id: tenantId });
    expect(status.body.data).toEqual({ tenant: { status: 'active' } });
  });

  it('checklist 5: 51 directives are refused', async () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    refused(await query(`{ __typename ${directives} }`), /directives limit of 50 exceeded/i);
  });

  it('checklist 6: a document over 1,000 tokens or a 2 MB body is refused, quickly', async () => {
    const fields = Array.from({ length: 1100 }, () => 'id').join(' ');
    let started = performance.now();
    refused(await query(`query($id: ID!) { tenant(id: $id) { ${fields} } }`, { id: tenantId }), /token limit of 1000 exceeded/i);
    expect(performance.now() - started).toBeLessThan(5_000);
    started = performance.now();
    const huge = await post({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('checklist 7: a query whose estimated cost exceeds the limit (50,000) is refused before execution; a full page of 1,000 events is not', async () => {
    const envelope =
      'id eventType occurredAt tenantId actor outcome sequence evidencePointer correlationId authoritySnapshotId policySnapshotId chainId prevHash eventHash refusalReasonClass refusalReasonCode refusalSubject refusalReason details';
    const page = await query(`{ events(first: 1000) { items { ${envelope} } nextCursor } }`);
    expect(page.body.errors).toBeUndefined();
    // Wide and deep lists without aliases: a fragment spread many times inside nested lists.
    const spreads = (name: string, count: number) => Array.from({ length: count }, () => `...${name}`).join(' ');
    const document = `{ tenants(first: 100) { items { ${spreads('A', 10)} } } }
      fragment A on Tenant { workloads { id tenant { events(last: 100) { sequence eventType outcome } } } }`;
    const answer = await query(document);
    refused(answer, /cost limit of 50000 exceeded/i);
    expect(answer.text).not.toMatch(/depth|aliases|token/i);
  });

  it('checklist 8: cyclic fragments are a validation error', async () => {
    const answer = await query('query { __typename ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
    refused(answer);
    expect(answer.body.errors![0]!.extensions?.code).toBe('ECS_BAD_REQUEST');
  });

  it('checklist 9: batched requests are refused', async () => {
    const answer = await post([{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(answer.status).toBe(400);
    expect(answer.text).not.toContain('"__typename":"Query"');
  });

  it('checklist 10: CSRF: a simple GET without a preflight header, and text/plain or form POSTs, are refused', async () => {
    const get = await fetch(`${env.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { authorization: `Bearer ${env.adminToken}` },
    });
    expect(get.status).toBe(400);
    const csrf = {
      message: expect.stringMatching(/^This operation has been blocked as a potential Cross-Site Request Forgery/),
      extensions: { code: 'ECS_BAD_REQUEST', apollo_code: 'BAD_REQUEST' },
    };
    expect(await get.json()).toEqual({ errors: [csrf] });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await post(JSON.stringify({ query: '{ __typename }' }), { 'content-type': type });
      // Refused as a CSRF risk, not by some other failure that happens to be a 4xx.
      expect({ type, status: answer.status, body: answer.body }).toEqual({ type, status: 400, body: { errors: [csrf] } });
    }
  });

  it('checklist 11: a mutation sent with GET is refused', async () => {
    const document = `mutation { suspendTenant(id: "${tenantId}") { id } }`;
    const response = await fetch(`${env.url}/graphql?query=${encodeURIComponent(document)}`, {
      headers: { authorization: `Bearer ${env.adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(405);
    expect((await query('query($id: ID!) { tenant(id: $id) { status } }', { id: tenantId })).body.data).toEqual({
      tenant: { status: 'active' },
    });
  });

  it('checklist 13: _service and _entities of the planes are not part of the public schema', async () => {
    refused(await query('{ _service { sdl } }'));
    refused(
      await query('query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [{ __typename: 'Tenant', id: tenantId }] }),
    );
  });

  it('checklist 15: a persisted-query hash for an unknown document is refused', async () => {
    const answer = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } });
    refused(answer);
    expect(answer.text).not.toContain('"__typename"');
  });

  // Last: it breaks the stack's database on purpose (a table disappears under the planes).
  it('checklist 12: errors in production carry no stack trace, SQL or Prisma message', async () => {
    await env.stack.services.db.prisma.$executeRawUnsafe('ALTER TABLE control_tenants RENAME TO control_tenants_gone');
    const answer = await query('query($id: ID!) { tenant(id: $id) { id status } events(first: 5) { items { id } } }', { id: tenantId });
    // The control plane's failure is one masked error on its field; the audit plane still answers.
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toEqual([
      { message: 'internal error', path: ['tenant'], extensions: { code: 'ECS_INTERNAL', plane: 'control' } },
    ]);
    expect(answer.body.data).toEqual({ tenant: null, events: { items: expect.any(Array) } });
    expect(answer.text).not.toMatch(/stack|stacktrace|at \w+ \(|\.ts:\d+|prisma|SELECT|INSERT|pglite|node_modules/i);
  });
});
