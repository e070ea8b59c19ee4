import { verifyChain } from '../../subgraphs/audit/data/chain';
import { fillSyntheticChain } from '../support/fill-chain';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

/** Checklist line 66: one tenant's expensive fields must not stall the other tenants. */
interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    code?: string;
    message?: string;
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

const CHAIN_EVENTS = 3000;
const FLOOD = 36;

/** `count` aliases cycling through the expensive fields (verification, head, both proofs). */
function expensiveDocument(count: number): string {
  const fields = [
    'verifyChain(tenantId: $t) { valid checked }',
    'chainHead(tenantId: $t) { sequence merkleRoot }',
    'inclusionProof(tenantId: $t, sequence: 1) { treeSize root }',
    'consistencyProof(tenantId: $t, fromSize: 1) { treeSize root }',
  ];
  return `query($t: ID!) { ${Array.from({ length: count }, (_, i) => `a${i}: ${fields[i % fields.length]!}`).join(' ')} }`;
}

describe('security checklist: expensive fields', () => {
  let env: TestStack;
  let audited: string;
  let other: string;
  let auditor: string;
  let otherAdmin: string;

  async function send(path: string, token: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${env.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
  }
  const graphql = (token: string, query: string, variables: Record<string, unknown>) => send('/graphql', token, { query, variables });
  const chainValid = async (tenantId: string) => {
    const answer = await graphql(env.adminToken, 'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }', { t: tenantId });
    return answer.body.data?.verifyChain as { valid: boolean; checked: number };
  };

  beforeAll(async () => {
    env = await startTestStack();
    audited = uniqueId('audited');
    other = uniqueId('other');
    // A chain of a few thousand events written directly, then continued by the ledger.
    await fillSyntheticChain(env.stack.services.db, { tenantId: audited, count: CHAIN_EVENTS });
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(audited) })).errors).toBeUndefined();
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(other) })).errors).toBeUndefined();
    auditor = await env.token('auditor', audited);
    otherAdmin = await env.token('tenant-admin', other);
    const workload = { tenantId: other, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' };
    expect((await env.gqlAs(otherAdmin, CREATE_WORKLOAD, { input: workload })).errors).toBeUndefined();
  });
  afterAll(() => env.stop());

  it('checklist 66: the cost limit refuses a document with too many expensive aliases (or pages sized by variables) before execution', async () => {
    const headBefore = await chainValid(audited);
    for (const count of [5, 15]) {
      const answer = await graphql(auditor, expensiveDocument(count), { t: audited });
      expect([count, answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([count, 400, 'ECS_BAD_REQUEST']);
      expect(answer.body.errors![0]!.message).toMatch(/cost limit of 50000 exceeded/i);
      expect(answer.body.data ?? null).toBeNull();
    }
    // Four fit; so does one of each.
    const four = await graphql(auditor, expensiveDocument(4), { t: audited });
    expect(four.status).toBe(200);
    expect(four.body.data?.a0).toEqual(headBefore);
    expect(headBefore.checked).toBeGreaterThan(CHAIN_EVENTS);
    // Export requests weigh the same: five in one document start nothing (no evidence.export event).
    const exports = Array.from(
      { length: 5 },
      (_, i) => `e${i}: requestEvidenceExport(input: { tenantId: $t, evidenceProfileId: "ecs-evidence-baseline" }) { id }`,
    );
    const refusedExports = await graphql(auditor, `mutation($t: ID!) { ${exports.join(' ')} }`, { t: audited });
    expect([refusedExports.status, refusedExports.body.errors?.[0]?.extensions?.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    // Pages sized by a variable count with their size (graphql-armor counted them as one object).
    const envelope =
      'id eventType occurredAt tenantId actor outcome sequence evidencePointer correlationId chainId prevHash eventHash details';
    const pages = `query($t: ID!, $n: Int) { a: events(filter: { tenantId: $t }, first: $n) { items { ${envelope} } } b: events(filter: { tenantId: $t }, first: $n) { items { ${envelope} } } }`;
    const refusedPages = await graphql(auditor, pages, { t: audited, n: 1000 });
    expect([refusedPages.status, refusedPages.body.errors?.[0]?.extensions?.code]).toEqual([400, 'ECS_BAD_REQUEST']);
    expect(refusedPages.body.errors![0]!.message).toMatch(/cost limit of 50000 exceeded/i);
    expect((await graphql(auditor, pages, { t: audited, n: 10 })).status).toBe(200);
    // Nothing was appended by the refused documents, and the chain still verifies.
    expect(await chainValid(audited)).toEqual(headBefore);
  });

  it("checklist 66: one auditor's flood of concurrent expensive requests gets 429/400 refusals while another tenant's GET /v1/workloads keeps answering 200", async () => {
    // Documents within the cost limit (four expensive fields each), over it (fifteen), and
    // the REST listing of 1,000 events, all from the same principal and all at once.
    const flood = Array.from({ length: FLOOD }, (_, i) => {
      if (i % 3 === 0) return send(`/v1/events?tenant=${audited}&limit=1000`, auditor).then((answer) => ({ kind: 'rest', answer }));
      const count = i % 3 === 1 ? 4 : 15;
      return graphql(auditor, expensiveDocument(count), { t: audited }).then((answer) => ({ kind: `graphql-${count}`, answer }));
    });
    let settled = false;
    const floodDone = Promise.all(flood).finally(() => {
      settled = true;
    });
    const otherTenant: Answer[] = [];
    while (!settled || otherTenant.length < 5) {
      otherTenant.push(await send('/v1/workloads', otherAdmin));
    }
    const results = await floodDone;

    expect(otherTenant.map((answer) => answer.status)).toEqual(otherTenant.map(() => 200));
    expect(
      otherTenant.every(
        (answer) => Array.isArray((answer.body as { items?: unknown[] }).items) && (answer.body as { items: unknown[] }).items.length === 1,
      ),
    ).toBe(true);

    const statuses = results.map(({ kind, answer }) => `${kind} ${answer.status}`);
    for (const { kind, answer } of results) {
      expect([kind, [200, 400, 429].includes(answer.status)]).toEqual([kind, true]);
      if (answer.status === 429) {
        expect(answer.retryAfter).toMatch(/^[1-9][0-9]*$/);
        const code = kind === 'rest' ? answer.body.code : answer.body.errors?.[0]?.extensions?.code;
        expect(code).toBe('ECS_RATE_LIMITED');
      }
    }
    // Every document over the cost limit is refused before it runs; the rest mostly get 429.
    expect(results.filter(({ kind }) => kind === 'graphql-15').map(({ answer }) => answer.status)).toEqual(Array(FLOOD / 3).fill(400));
    expect(statuses.filter((status) => status.endsWith(' 429')).length).toBeGreaterThanOrEqual(FLOOD / 3);
    for (const { kind, answer } of results.filter((result) => result.answer.status === 200)) {
      if (kind === 'graphql-4') expect(answer.body.data?.a0).toEqual({ valid: true, checked: expect.any(Number) });
    }

    // Once the flood is over the auditor is served again, and both chains still verify.
    expect((await graphql(auditor, expensiveDocument(4), { t: audited })).status).toBe(200);
    expect((await chainValid(audited)).valid).toBe(true);
    expect((await chainValid(other)).valid).toBe(true);
  });

  it('checklist 66: a chain verification whose caller has gone away stops between slices', async () => {
    const db = env.stack.services.db;
    const gone = new AbortController();
    const started = verifyChain({ db, tenantId: audited, signal: gone.signal });
    gone.abort();
    await expect(started).rejects.toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/abandoned/) });
    expect(await verifyChain({ db, tenantId: audited })).toMatchObject({ valid: true });
  });
});
