import { GovernanceFactsCache, rememberingPlaneClient } from '../../lib/subgraph/governance-facts-cache';
import type { AuthorityDecision, PlaneClient, TenantFacts } from '../../lib/subgraph/plane-client';

const FACTS: TenantFacts = {
  id: 't1',
  status: 'active',
  jurisdiction: 'DE',
  classificationCeiling: 'restricted',
  policyBaseline: 'ecs-baseline-v1',
  authorityBinding: 'auth-1',
};

/** A plane client that counts its calls and answers what the test sets. */
function countingClient(answers: { tenant?: TenantFacts | null; decision?: AuthorityDecision; fail?: boolean }) {
  const calls = { tenant: 0, authority: 0, policy: 0 };
  const client: PlaneClient = {
    tenant: async () => {
      calls.tenant += 1;
      if (answers.fail) throw new Error('control plane down');
      return answers.tenant === undefined ? FACTS : answers.tenant;
    },
    decideAuthority: async () => {
      calls.authority += 1;
      return (
        answers.decision ?? { allowed: true, snapshotId: 'authsnap:1', reasonCode: null, reason: null, validUntil: '2999-01-01T00:00:00Z' }
      );
    },
    currentPolicy: async () => {
      calls.policy += 1;
      return { id: 'polsnap:1', text: 'permit(principal, action, resource);' };
    },
    lookupApiKey: async () => ({ ok: false, reason: 'unknown', apiKeyId: null, tenantId: null, scopes: null, expiresAt: null }),
    lookupS3SigningKey: async () => ({
      ok: false,
      reason: 'unknown',
      s3CredentialId: null,
      tenantId: null,
      scopes: null,
      expiresAt: null,
      signingKey: null,
    }),
    snapshotContent: async () => null,
  };
  return { client, calls };
}

describe('GovernanceFactsCache', () => {
  let now = 1_000_000;
  const clock = () => now;
  const hearingCache = (ttlMs = 5_000, maxEntries?: number) => {
    const cache = new GovernanceFactsCache({ ttlMs, now: clock, maxEntries });
    cache.setHearing(true);
    return cache;
  };

  it('remembers tenant facts, decisions and policies for their lifetime, then asks again', async () => {
    const cache = hearingCache(5_000);
    const { client, calls } = countingClient({});
    const remembering = rememberingPlaneClient(client, cache);
    for (let i = 0; i < 3; i++) {
      expect(await remembering.tenant('t1')).toEqual(FACTS);
      expect((await remembering.decideAuthority('auth-1', 'workload.admit')).allowed).toBe(true);
      expect((await remembering.currentPolicy('ecs-baseline-v1'))?.id).toBe('polsnap:1');
    }
    expect(calls).toEqual({ tenant: 1, authority: 1, policy: 1 });
    now += 5_001;
    await remembering.tenant('t1');
    expect(calls.tenant).toBe(2);
  });

  it('asks once for concurrent misses of one key', async () => {
    const cache = hearingCache();
    const { client, calls } = countingClient({});
    const remembering = rememberingPlaneClient(client, cache);
    await Promise.all(Array.from({ length: 20 }, () => remembering.tenant('t1')));
    expect(calls.tenant).toBe(1);
  });

  it('never remembers a refusal, an unknown tenant or a failure', async () => {
    const cache = hearingCache();
    const refused: AuthorityDecision = { allowed: false, snapshotId: 'authsnap:1', reasonCode: 'authority_expired', reason: 'expired' };
    const { client, calls } = countingClient({ tenant: null, decision: refused });
    const remembering = rememberingPlaneClient(client, cache);
    await remembering.tenant('t1');
    await remembering.tenant('t1');
    await remembering.decideAuthority('auth-1', 'workload.admit');
    await remembering.decideAuthority('auth-1', 'workload.admit');
    expect(calls).toMatchObject({ tenant: 2, authority: 2 });

    const failing = countingClient({ fail: true });
    const rememberingFailing = rememberingPlaneClient(failing.client, cache);
    await expect(rememberingFailing.tenant('t2')).rejects.toThrow('control plane down');
    await expect(rememberingFailing.tenant('t2')).rejects.toThrow('control plane down');
    expect(failing.calls.tenant).toBe(2);
  });

  it('remembers an allowing decision no longer than its binding is valid, and not at all without an end', async () => {
    const cache = hearingCache(60_000);
    const validUntil = new Date(now + 1_000).toISOString();
    const { client, calls } = countingClient({
      decision: { allowed: true, snapshotId: 'authsnap:1', reasonCode: null, reason: null, validUntil },
    });
    const remembering = rememberingPlaneClient(client, cache);
    await remembering.decideAuthority('auth-1', 'a');
    now += 999;
    await remembering.decideAuthority('auth-1', 'a');
    expect(calls.authority).toBe(1);
    now += 1;
    await remembering.decideAuthority('auth-1', 'a');
    expect(calls.authority).toBe(2);

    const noEnd = countingClient({ decision: { allowed: true, snapshotId: 'authsnap:1', reasonCode: null, reason: null } });
    const rememberingNoEnd = rememberingPlaneClient(noEnd.client, cache);
    await rememberingNoEnd.decideAuthority('auth-2', 'a');
    await rememberingNoEnd.decideAuthority('auth-2', 'a');
    expect(noEnd.calls.authority).toBe(2);
  });

  it('forgets everything on a change, including an answer that was being loaded when the change came', async () => {
    const cache = hearingCache();
    let release: (facts: TenantFacts) => void = () => undefined;
    let loads = 0;
    const slowLoad = () => {
      loads += 1;
      return new Promise<TenantFacts>((resolve) => {
        release = resolve;
      });
    };
    const keep = () => Number.POSITIVE_INFINITY;
    const first = cache.remember('k', slowLoad, keep);
    cache.forget();
    release({ ...FACTS, status: 'active' });
    expect((await first).status).toBe('active');
    // The answer loaded across the change is not remembered: the next call loads again.
    const second = cache.remember('k', slowLoad, keep);
    release({ ...FACTS, status: 'suspended' });
    expect((await second).status).toBe('suspended');
    expect(loads).toBe(2);
    expect((await cache.remember('k', slowLoad, keep)).status).toBe('suspended');
    expect(loads).toBe(2);
  });

  it('remembers nothing while changes may be missed, nor with a lifetime of 0', async () => {
    const cache = new GovernanceFactsCache({ ttlMs: 5_000, now: clock });
    const { client, calls } = countingClient({});
    const remembering = rememberingPlaneClient(client, cache);
    await remembering.tenant('t1');
    await remembering.tenant('t1');
    expect(calls.tenant).toBe(2);
    cache.setHearing(true);
    await remembering.tenant('t1');
    await remembering.tenant('t1');
    expect(calls.tenant).toBe(3);
    cache.setHearing(false);
    expect(cache.stats.entries).toBe(0);
    await remembering.tenant('t1');
    expect(calls.tenant).toBe(4);

    const off = new GovernanceFactsCache({ ttlMs: 0, now: clock });
    off.setHearing(true);
    expect(off.active).toBe(false);
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const cache = hearingCache(5_000, 2);
    const { client, calls } = countingClient({});
    const remembering = rememberingPlaneClient(client, cache);
    await remembering.tenant('a');
    await remembering.tenant('b');
    await remembering.tenant('c');
    expect(cache.stats.entries).toBe(2);
    await remembering.tenant('a');
    expect(calls.tenant).toBe(4);
    await remembering.tenant('c');
    expect(calls.tenant).toBe(4);
  });
});
