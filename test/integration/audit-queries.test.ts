import { compactVerify, createLocalJWKSet } from 'jose';
import type { Database } from '../../lib/db/database';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import type { Outcome } from '../../lib/evidence/evidence-event';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const EVENTS = `query($f: EventFilter, $first: Int, $after: String) {
  events(filter: $f, first: $first, after: $after) { items { id sequence tenantId eventType outcome correlationId } nextCursor }
}`;

interface Page {
  items: Array<{ id: string; sequence: number; tenantId: string; eventType: string; outcome: string; correlationId: string }>;
  nextCursor: string | null;
}

describe('audit plane queries', () => {
  let env: TestStack;
  let db: Database;

  function append(tenantId: string, n: number, eventType = 'workload.admit', outcome: Outcome = 'accepted') {
    return evidenceTransaction(db, tenantId, (tx) =>
      appendEvidence(tx, { tenantId, eventType, actor: 'writer', outcome, correlationId: `corr-${tenantId}-${n}` }),
    );
  }

  async function page(filter: Record<string, unknown>, first?: number, after?: string | null) {
    return env.gql<{ events: Page }>(EVENTS, { f: filter, first, after });
  }

  beforeAll(async () => {
    env = await startTestStack();
    db = env.stack.services.db;
  });
  afterAll(() => env.stop());

  it('filters by event type, outcome, correlation id, sequence and time range', async () => {
    const tenant = uniqueId();
    await append(tenant, 1, 'workload.admit');
    await append(tenant, 2, 'workload.refuse', 'refused');
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await append(tenant, 3, 'workload.admit');
    await append(tenant, 4, 'tenant.update', 'failed');

    const ids = async (filter: Record<string, unknown>) =>
      (await page({ tenantId: tenant, ...filter })).data!.events.items.map((event) => event.sequence);
    expect(await ids({})).toEqual([1, 2, 3, 4]);
    expect(await ids({ eventTypes: ['workload.admit'] })).toEqual([1, 3]);
    expect(await ids({ outcomes: ['refused', 'failed'] })).toEqual([2, 4]);
    expect(await ids({ correlationId: `corr-${tenant}-3` })).toEqual([3]);
    expect(await ids({ fromSequence: 2, toSequence: 3 })).toEqual([2, 3]);
    expect(await ids({ occurredFrom: middle.toISOString() })).toEqual([3, 4]);
    expect(await ids({ occurredTo: middle.toISOString() })).toEqual([1, 2]);
  });

  it('checklist 19: pages with opaque cursors, default 100 and at most 1000, without skipping or repeating under concurrent appends', async () => {
    const tenant = uniqueId();
    for (let n = 1; n <= 130; n += 1) await append(tenant, n);

    const defaultPage = await page({ tenantId: tenant });
    expect(defaultPage.data!.events.items).toHaveLength(100);
    expect(defaultPage.data!.events.nextCursor).toEqual(expect.any(String));

    for (const first of [0, -1, 1001]) {
      const refused = await page({ tenantId: tenant }, first);
      expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_INVALID_PAGE_SIZE');
    }

    // Page through while 60 more events are appended: each of the first pages is read while
    // four appends commit, so the appends land between and during page reads, never all
    // before or all after the paging.
    let appended = 130;
    const appendFour = async () => {
      for (let i = 0; i < 4 && appended < 190; i += 1) await append(tenant, (appended += 1));
    };
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const appending = appendFour();
      const result: { data?: { events: Page } | null } = await page({ tenantId: tenant }, 7, cursor);
      await appending;
      seen.push(...result.data!.events.items.map((event) => event.sequence));
      cursor = result.data!.events.nextCursor;
    } while (cursor);
    // Keyset pages: every event, those appended while paging included, once and in chain order.
    expect(seen).toEqual(Array.from({ length: 190 }, (_, n) => n + 1));
    expect((await page({ tenantId: tenant, fromSequence: 191 })).data!.events.items).toEqual([]);
  });

  it('orders all chains by (chain, sequence) when no tenant is given', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    await append(a, 1);
    await append(b, 1);
    await append(a, 2);
    const all: Page['items'] = [];
    let cursor: string | null = null;
    do {
      const result: { data?: { events: Page } | null } = await page({}, 1000, cursor);
      all.push(...result.data!.events.items);
      cursor = result.data!.events.nextCursor;
    } while (cursor);
    const mine = all.filter((event) => event.tenantId === a || event.tenantId === b);
    expect(mine.map((event) => `${event.tenantId}:${event.sequence}`)).toEqual([`${a}:1`, `${a}:2`, `${b}:1`]);
  });

  it('checklist 17, checklist 18: refuses a cursor of one tenant used for another, with other filters, or forged', async () => {
    const [a, b] = [uniqueId(), uniqueId()];
    for (let n = 1; n <= 3; n += 1) {
      await append(a, n);
      await append(b, n);
    }
    const cursor = (await page({ tenantId: a }, 1)).data!.events.nextCursor!;
    expect((await page({ tenantId: a }, 1, cursor)).data!.events.items[0]!.sequence).toBe(2);
    for (const [filter, after] of [
      [{ tenantId: b }, cursor],
      [{ tenantId: a, outcomes: ['accepted'] }, cursor],
      [{ tenantId: a }, `${cursor.split('.')[0]}.AAAA`],
      [{ tenantId: a }, 'not-a-cursor'],
    ] as const) {
      const refused = await page(filter, 1, after);
      expect(refused.errors?.[0]?.extensions?.code).toBe('ECS_INVALID_CURSOR');
      expect(refused.data).toBeNull();
    }
  });

  it('resolves an evidence pointer only within its tenant', async () => {
    const [a, b] = [uniqueId(), uniqueId()];
    const event = await append(a, 1);
    await append(b, 1);
    const query = `query($p: String!, $t: ID!) { evidence(pointer: $p, tenantId: $t) { pointer tenantId mediaType digest verified content } }`;
    const own = await env.gql<{ evidence: { verified: boolean; digest: string; content: Record<string, unknown> } }>(query, {
      p: event.evidence_pointer,
      t: a,
    });
    expect(own.data!.evidence).toMatchObject({ verified: true, tenantId: a, mediaType: 'application/json' });
    expect(`eosc://evidence/${own.data!.evidence.digest}`).toBe(event.evidence_pointer);
    expect(own.data!.evidence.content).toMatchObject({
      record_type: 'ecs.decision-record',
      tenant_id: a,
      correlation_id: event.correlation_id,
      decision: 'accepted',
    });
    const other = await env.gql(query, { p: event.evidence_pointer, t: b });
    expect(other.errors).toBeUndefined();
    expect(other.data).toEqual({ evidence: null });
  });

  it('signs the chain head with a key published at /.well-known/jwks.json', async () => {
    const tenant = uniqueId();
    await append(tenant, 1);
    const last = await append(tenant, 2);
    const head = await env.gql<{ chainHead: { sequence: number; headHash: string; kid: string; jws: string; chainId: string } }>(
      `query($t: ID!) { chainHead(tenantId: $t) { chainId sequence headHash kid jws issuedAt } }`,
      { t: tenant },
    );
    const checkpoint = head.data!.chainHead;
    expect(checkpoint).toMatchObject({ sequence: 2, headHash: last.event_hash, chainId: `ecs:tenant:${tenant}` });
    const jwks = (await (await fetch(`${env.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
    const { payload, protectedHeader } = await compactVerify(checkpoint.jws, createLocalJWKSet(jwks));
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: checkpoint.kid, typ: 'ecs-checkpoint+jws' });
    expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toMatchObject({
      checkpoint_type: 'ecs.chain-checkpoint',
      chain_id: `ecs:tenant:${tenant}`,
      tenant_id: tenant,
      sequence: 2,
      head_hash: last.event_hash,
    });

    const empty = await env.gql<{ chainHead: { sequence: number; headHash: string | null } }>(
      `query($t: ID!) { chainHead(tenantId: $t) { sequence headHash } }`,
      { t: uniqueId() },
    );
    expect(empty.data!.chainHead).toEqual({ sequence: 0, headHash: null });
  });

  it('rejects verifyChain ranges that make no sense', async () => {
    const result = await env.gql(`{ verifyChain(tenantId: "x", fromSequence: 5, toSequence: 2) { valid } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('ECS_VALIDATION_FAILED');
  });
});
