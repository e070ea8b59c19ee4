import { createApiKeyLookup } from '../../gateway/api-key-lookup';
import type { ApiKeyLookupResult, PlaneClient } from '../../lib/subgraph/plane-client';

const REFUSED: ApiKeyLookupResult = { ok: false, reason: 'unknown', apiKeyId: null, tenantId: null, scopes: null, expiresAt: null };

/** A plane client that counts API-key lookups and answers with `answer(key)`. */
function countingClient(answer: (key: string) => ApiKeyLookupResult) {
  const calls: string[] = [];
  const client = {
    lookupApiKey: async (key: string) => {
      calls.push(key);
      return answer(key);
    },
  } as unknown as PlaneClient;
  return { client, calls };
}

function validKey(key: string, expiresAt: string | null = null): ApiKeyLookupResult {
  return { ok: true, reason: null, apiKeyId: `id-${key}`, tenantId: 't1', scopes: ['workload.deploy', 'not-an-action'], expiresAt };
}

describe('createApiKeyLookup', () => {
  it('maps a valid key to a tenant-admin caller with known scopes only', async () => {
    const { client } = countingClient(validKey);
    const lookup = createApiKeyLookup(() => client);
    const answer = await lookup('k1', 'r1');
    expect(answer).toEqual({
      ok: true,
      caller: expect.objectContaining({ subject: 'api-key:id-k1', tenantId: 't1', scopes: ['workload.deploy'], roles: ['tenant-admin'] }),
    });
  });

  it('asks the identity plane once per key within the window', async () => {
    const { client, calls } = countingClient(validKey);
    const lookup = createApiKeyLookup(() => client, 60_000);
    await lookup('k1', 'r1');
    await lookup('k1', 'r2');
    await lookup('k2', 'r3');
    expect(calls).toEqual(['k1', 'k2']);
  });

  it('forgets answers after the window and never remembers with a zero window', async () => {
    const { client, calls } = countingClient(() => REFUSED);
    const none = createApiKeyLookup(() => client, 0);
    await none('k1', 'r1');
    await none('k1', 'r2');
    expect(calls).toHaveLength(2);
    const short = createApiKeyLookup(() => client, 20);
    await short('k2', 'r3');
    await new Promise((resolve) => setTimeout(resolve, 60));
    await short('k2', 'r4');
    expect(calls.filter((key) => key === 'k2')).toHaveLength(2);
  });

  it('refuses a remembered key once its expiry passes', async () => {
    const soon = new Date(Date.now() + 40).toISOString();
    const { client } = countingClient((key) => validKey(key, soon));
    const lookup = createApiKeyLookup(() => client, 60_000);
    expect((await lookup('k1', 'r1')).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await lookup('k1', 'r2')).toEqual({ ok: false, reason: 'expired' });
  });

  it('keeps a busy key remembered when many other keys pass through', async () => {
    const { client, calls } = countingClient(validKey);
    const lookup = createApiKeyLookup(() => client, 60_000);
    await lookup('busy', 'r0');
    for (let i = 0; i < 10_050; i += 1) {
      await lookup(`other-${i}`, 'r');
      if (i % 1000 === 0) await lookup('busy', 'r');
    }
    await lookup('busy', 'r');
    expect(calls.filter((key) => key === 'busy')).toHaveLength(1);
  });

  it('refuses an over-long key without asking', async () => {
    const { client, calls } = countingClient(validKey);
    const lookup = createApiKeyLookup(() => client);
    expect(await lookup('x'.repeat(201), 'r1')).toEqual({ ok: false, reason: 'malformed' });
    expect(calls).toHaveLength(0);
  });
});
