import { CREATE_TENANT, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';
import { chainEvents } from '../support/chain-events';
import { liveClient, openedSockets, subscribe } from '../support/live-events';

/**
 * Refusals no principal can use to grow another tenant's chain without bound (checklist 67),
 * request shapes that are 400s rather than 5xx (checklist 69), and the websocket's share of
 * the input boundary (checklist 64).
 */
const WINDOW_MS = 3000;
const PER_SOURCE = 5;
const PER_CHAIN = 20;
const KEYS_PER_TENANT = 3;

describe('bounded refusals and request shapes', () => {
  let env: TestStack;
  let tenantA: string;

  beforeAll(async () => {
    env = await startTestStack({
      env: {
        REFUSAL_EVIDENCE_WINDOW_MS: String(WINDOW_MS),
        REFUSAL_EVIDENCE_PER_SOURCE: String(PER_SOURCE),
        REFUSAL_EVIDENCE_PER_CHAIN: String(PER_CHAIN),
        API_KEYS_PER_TENANT: String(KEYS_PER_TENANT),
      },
    });
    tenantA = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantA) })).errors).toBeUndefined();
  });
  afterAll(async () => {
    for (const socket of openedSockets) socket.terminate();
    await env.stop();
  });

  async function victim(): Promise<string> {
    const id = uniqueId('v');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(id) })).errors).toBeUndefined();
    return id;
  }

  const ALIASED_READS = `query($b: ID!) { ${Array.from({ length: 15 }, (_, n) => `r${n}: tenant(id: $b) { id }`).join(' ')} }`;

  /** Windows a burst that took `elapsedMs` can have touched. */
  const windowsIn = (elapsedMs: number) => Math.ceil(elapsedMs / WINDOW_MS) + 1;
  /** Events written plus the refusals they report as suppressed: every refusal is accounted for. */
  const accounted = (events: Array<{ details: Record<string, unknown> }>) =>
    events.length + events.reduce((sum, event) => sum + Number(event.details.suppressed_before ?? 0), 0);

  it('checklist 67: fifteen aliased cross-tenant reads sent twenty times add a bounded number of events to the victim chain, all accounted for', async () => {
    const tenantB = await victim();
    const before = (await chainEvents(env, tenantB)).length;
    const adminA = await env.token('tenant-admin', tenantA);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => env.gqlAs(adminA, ALIASED_READS, { b: tenantB })));
    const elapsed = Date.now() - started;
    const pointers = new Set<string>();
    for (const answer of answers) {
      expect(answer.errors).toHaveLength(15);
      for (const error of answer.errors!) {
        expect(error.extensions).toMatchObject({
          code: 'ECS_FORBIDDEN',
          evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/),
        });
        pointers.add(error.extensions!.evidence_pointer as string);
      }
    }
    const grown = (await chainEvents(env, tenantB)).slice(before);
    // 300 refusals, at most PER_SOURCE events per window (unthrottled, this was 300 events).
    expect(grown.length).toBeGreaterThanOrEqual(PER_SOURCE);
    expect(grown.length).toBeLessThanOrEqual(PER_SOURCE * windowsIn(elapsed));
    // Every caller was handed a pointer to an event that accounts for its refusal.
    expect([...pointers].every((pointer) => grown.some((event) => event.evidencePointer === pointer))).toBe(true);
    // The next window's first event counts what the last one suppressed: all 301 refusals are accounted for.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 100));
    const next = await env.gqlAs(adminA, 'query($b: ID!) { tenant(id: $b) { id } }', { b: tenantB });
    expect(next.errors?.[0]?.extensions?.code).toBe('ECS_FORBIDDEN');
    const after = (await chainEvents(env, tenantB)).slice(before);
    expect(after).toHaveLength(grown.length + 1);
    expect(after[after.length - 1]!.details).toMatchObject({ suppressed_before: expect.any(Number), throttle_window_ms: WINDOW_MS });
    expect(accounted(after)).toBe(20 * 15 + 1);
    const verified = await env.gql<{ verifyChain: { valid: boolean } }>('query($t: ID!) { verifyChain(tenantId: $t) { valid } }', {
      t: tenantB,
    });
    expect(verified.data!.verifyChain.valid).toBe(true);
  });

  it('checklist 67: many principals together cannot grow one chain past its cap per window', async () => {
    const tenantB = await victim();
    const before = (await chainEvents(env, tenantB)).length;
    const tokens = await Promise.all(
      Array.from({ length: 60 }, (_, n) => env.token('tenant-admin', tenantA, { subject: `attacker-${n}` })),
    );
    const read = (token: string) => env.gqlAs(token, 'query($b: ID!) { tenant(id: $b) { id } }', { b: tenantB });
    const started = Date.now();
    const answers = await Promise.all(tokens.map(read));
    const elapsed = Date.now() - started;
    for (const answer of answers)
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'ECS_FORBIDDEN', evidence_pointer: expect.any(String) });
    const grown = (await chainEvents(env, tenantB)).slice(before);
    expect(grown.length).toBeLessThanOrEqual(PER_CHAIN * windowsIn(elapsed));
    expect(grown.length).toBeLessThan(60);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 100));
    await read(await env.token('tenant-admin', tenantA, { subject: 'attacker-last' }));
    expect(accounted((await chainEvents(env, tenantB)).slice(before))).toBe(61);
  });

  it('checklist 67: a tenant holds at most API_KEYS_PER_TENANT live keys; one more is refused with evidence until one is revoked', async () => {
    const tenant = await victim();
    const admin = await env.token('tenant-admin', tenant);
    const create = (name: string) =>
      env.gqlAs<{ createApiKey: { apiKey: { id: string } } }>(
        admin,
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }',
        {
          i: { tenantId: tenant, name, scopes: ['workload.read'] },
        },
      );
    const created = await Promise.all(Array.from({ length: KEYS_PER_TENANT + 2 }, (_, n) => create(`k${n}`)));
    const accepted = created.filter((answer) => answer.errors === undefined);
    const refused = created.filter((answer) => answer.errors !== undefined);
    expect(accepted).toHaveLength(KEYS_PER_TENANT);
    for (const answer of refused)
      expect(answer.errors![0]!.extensions).toMatchObject({ code: 'ECS_CONFLICT', evidence_pointer: expect.any(String) });
    const events = await chainEvents(env, tenant);
    const refusal = events.find((event) => event.evidencePointer === refused[0]!.errors![0]!.extensions!.evidence_pointer);
    expect(refusal).toMatchObject({ eventType: 'apikey.create', outcome: 'refused', refusalReasonCode: 'api_key_limit_reached' });
    const revoked = await env.gqlAs(admin, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
      id: accepted[0]!.data!.createApiKey.apiKey.id,
    });
    expect(revoked.errors).toBeUndefined();
    expect((await create('again')).errors).toBeUndefined();
  });

  async function post(
    body: unknown,
    token = env.adminToken,
  ): Promise<{ status: number; body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
    const response = await fetch(`${env.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as never };
  }

  it('checklist 69: several operations without operationName, an unknown operationName, a subscription over HTTP and a syntax error are 400s', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ query: 'query A { __typename } query B { __typename }' }, /2 operations: name the one to run/],
      [{ query: 'query A { __typename }', operationName: 'Z' }, /no operation named "Z"/],
      [{ query: 'query A { __typename }', operationName: 7 }, /operationName must be a string/],
      [{ query: 'subscription { auditEvents { sequence } }' }, /websocket/],
      [{ query: 'query Q { __typename } subscription S { auditEvents { sequence } }', operationName: 'S' }, /websocket/],
      [{ query: '{ tenant( ' }, /Syntax Error/],
      [{ query: '{ tenant(id: "\\u{110000}") { id } }' }, /Syntax Error/],
    ];
    for (const [body, message] of cases) {
      const answer = await post(body);
      expect([body, answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([body, 400, 'ECS_BAD_REQUEST']);
      expect(answer.body.errors![0]!.message).toMatch(message);
    }
    const viaGet = await fetch(`${env.url}/graphql?query=${encodeURIComponent('subscription { auditEvents { sequence } }')}`, {
      headers: { authorization: `Bearer ${env.adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect(viaGet.status).toBe(400);
    // The same documents run once named.
    expect((await post({ query: 'query A { __typename } query B { __typename }', operationName: 'B' })).status).toBe(200);
  });

  it('checklist 69: GraphQL variables nested 5,000 levels deep are a 400 naming the depth, and the gateway keeps answering', async () => {
    const deep = `{"query":"mutation($x: JSONObject!) { declareNoControl(input: {tenantId: \\"${tenantA}\\", type: \\"key.custody.declare\\", artifact: $x}) { __typename } }","variables":{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    const answer = await post(deep);
    expect([answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    expect(answer.body.errors![0]!.message).toMatch(/nested deeper than 64 levels/);
    expect(answer.body.errors![0]!.message).not.toMatch(/plane/);
    const list = `{"query":"query($x: [[ID]]) { __typename }","variables":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    expect((await post(list)).status).toBe(400);
    expect((await post({ query: '{ __typename }' })).status).toBe(200);
  });

  it('checklist 64: a websocket subscribe with malformed variables or literals gets a recorded 400-class error, not a failure', async () => {
    const client = liveClient(env.url, { token: env.adminToken });
    try {
      for (const [variables, query] of [
        [{ tenantId: `${tenantA}\u0000` }, undefined],
        [{ tenantId: 'x\ud800' }, undefined],
        [{}, 'subscription { auditEvents(tenantId: "a\\u0085") { sequence } }'],
      ] as const) {
        const subscription = subscribe(client, variables, query);
        const ended = await subscription.ended;
        expect(Array.isArray(ended)).toBe(true);
        const [error] = ended as ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
        expect(error!.extensions).toMatchObject({
          code: 'ECS_BAD_REQUEST',
          evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\//),
        });
      }
      // The connection is still good for a well-formed subscription.
      const good = subscribe(client, { tenantId: tenantA, afterSequence: 0 });
      expect((await good.next(1)).length).toBe(1);
      good.dispose();
    } finally {
      await client.dispose();
    }
  });
});
