import type { Database } from '../../lib/db/database';
import { RefusalThrottle } from '../../lib/evidence/refusal-throttle';
import { openMigratedTestDatabase } from '../../testkit/test-database';

describe('bounded evidence for unauthenticated refusals', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openMigratedTestDatabase());
  });
  afterAll(() => close());

  const refusal = (n: number) => ({
    actor: 'unauthenticated',
    correlationId: `c-${n}`,
    eventType: 'authority.refusal',
    refusal: {
      reasonClass: 'authority_missing_or_invalid' as const,
      reasonCode: 'credentials_missing',
      subject: 'GET /v1',
      reason: 'no credentials',
    },
  });
  const platformEvents = () => db.prisma.evidenceEvent.findMany({ where: { chainId: 'ecs:platform' }, orderBy: { sequence: 'asc' } });

  it('writes one event per source and window however many arrive at once, and counts the rest in the next', async () => {
    let now = 1_000_000;
    const throttle = new RefusalThrottle(db, { windowMs: 60_000, maxPerWindow: 5, now: () => now });
    const before = (await platformEvents()).length;
    const pointers = await Promise.all(Array.from({ length: 1000 }, (_, n) => throttle.record('10.0.0.1:missing', refusal(n))));
    expect(new Set(pointers).size).toBe(1);
    expect((await platformEvents()).length - before).toBe(1);

    now += 61_000;
    await throttle.record('10.0.0.1:missing', refusal(1001));
    const events = await platformEvents();
    expect(events.length - before).toBe(2);
    expect(JSON.parse(events[events.length - 1]!.canonical)).toMatchObject({ suppressed_before: 999, outcome: 'refused' });
  });

  it('caps events per window across sources', async () => {
    let now = 5_000_000;
    const throttle = new RefusalThrottle(db, { windowMs: 60_000, maxPerWindow: 5, now: () => now });
    const before = (await platformEvents()).length;
    const pointers = await Promise.all(Array.from({ length: 200 }, (_, n) => throttle.record(`source-${n}`, refusal(n))));
    expect(pointers.every((pointer) => pointer.startsWith('eosc://evidence/sha256:'))).toBe(true);
    expect((await platformEvents()).length - before).toBe(5);
    now += 60_000;
    await throttle.record('source-0', refusal(0));
    expect((await platformEvents()).length - before).toBe(6);
  });
});
