import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const REAL_TIMERS = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

describe('security checklist: clock', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(async () => {
    jest.useRealTimers();
    await env.stop();
  });

  it('checklist 63: a clock stepped back leaves sequences and chain continuity intact; ordering never uses occurred_at', async () => {
    const tenantId = uniqueId('t');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenantId) })).errors).toBeUndefined();
    // Tokens are minted on the clock they are used on (a token from the future is refused).
    const admit = async () => {
      const result = await env.gqlAs(await env.token('platform-admin'), CREATE_WORKLOAD, {
        input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' },
      });
      expect(result.errors).toBeUndefined();
    };
    // The step goes back to just after the authority binding became valid (before that the
    // binding itself refuses, rightly), and well before the events already written.
    const binding = await env.gql<{ authorityBinding: { validFrom: string } }>('{ authorityBinding(id: "auth-dev-001") { validFrom } }');
    const validFrom = Date.parse(binding.data!.authorityBinding.validFrom);
    while (Date.now() < validFrom + 3_000) await new Promise((resolve) => setTimeout(resolve, 100));
    await admit();
    // An NTP step: only Date moves back; timers and I/O keep running.
    jest.useFakeTimers({ doNotFake: [...REAL_TIMERS], now: validFrom + 500 });
    await admit();
    await admit();
    jest.useRealTimers();
    await admit();

    const result = await env.gql<{ events: { items: Array<{ sequence: number; occurredAt: string; eventType: string }> } }>(
      'query($f: EventFilter) { events(filter: $f, first: 100) { items { sequence occurredAt eventType } } }',
      { f: { tenantId } },
    );
    const events = result.data!.events.items;
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5]);
    const times = events.map((event) => Date.parse(event.occurredAt));
    // The clock went backwards between events 2 and 3, and the order stayed by sequence.
    expect(times[2]!).toBeLessThan(times[1]!);
    expect(times[4]!).toBeGreaterThan(times[3]!);
    const verified = await env.gql<{ verifyChain: { valid: boolean; checked: number } }>(
      'query($t: ID!) { verifyChain(tenantId: $t) { valid checked } }',
      { t: tenantId },
    );
    expect(verified.data!.verifyChain).toEqual({ valid: true, checked: 5 });
    // A time-range query still finds the events written while the clock was behind.
    const window = await env.gql<{ events: { items: Array<{ sequence: number }> } }>(
      'query($f: EventFilter) { events(filter: $f, first: 100) { items { sequence } } }',
      { f: { tenantId, occurredFrom: new Date(times[2]!).toISOString(), occurredTo: new Date(times[3]! + 1).toISOString() } },
    );
    expect(window.data!.events.items.map((event) => event.sequence)).toEqual([3, 4]);
  });
});
