import { rememberingTokenVerifier } from '../../lib/auth/remembering-token-verifier';
import { TokenVerificationError } from '../../lib/auth/token-verifier';
import type { TokenVerifier, VerifiedToken } from '../../lib/auth/token-verifier';

describe('rememberingTokenVerifier', () => {
  let now = Date.parse('2026-12-06T10:00:00Z');
  const clock = () => now;
  const verified = (overrides: Partial<VerifiedToken> = {}): VerifiedToken => ({
    subject: 'alice',
    issuer: 'urn:issuer',
    roles: ['reader'],
    expiresAt: new Date(now + 3_600_000),
    issuedAt: new Date(now),
    ...overrides,
  });

  function counting(answer: (token: string) => VerifiedToken) {
    const calls: string[] = [];
    const inner: TokenVerifier = {
      verify: async (token) => {
        calls.push(token);
        return answer(token);
      },
    };
    return { inner, calls };
  }

  it('verifies a token once within the remembering time, and again after it', async () => {
    const { inner, calls } = counting(() => verified());
    const verifier = rememberingTokenVerifier(inner, { rememberMs: 60_000, now: clock });
    for (let i = 0; i < 3; i++) expect((await verifier.verify('token-a')).subject).toBe('alice');
    expect(calls).toEqual(['token-a']);
    await verifier.verify('token-b');
    expect(calls).toEqual(['token-a', 'token-b']);
    now += 60_001;
    await verifier.verify('token-a');
    expect(calls).toEqual(['token-a', 'token-b', 'token-a']);
  });

  it('never remembers a token past its exp or its maximum age', async () => {
    const { inner, calls } = counting(() => verified({ expiresAt: new Date(now + 1_000), issuedAt: new Date(now - 9_500) }));
    const byExp = rememberingTokenVerifier(inner, { rememberMs: 60_000, now: clock });
    await byExp.verify('short');
    now += 999;
    await byExp.verify('short');
    expect(calls).toHaveLength(1);
    now += 1;
    await byExp.verify('short');
    expect(calls).toHaveLength(2);

    const aged = counting(() => verified({ issuedAt: new Date(now - 9_500) }));
    const byAge = rememberingTokenVerifier(aged.inner, { rememberMs: 60_000, maxTokenAgeSeconds: 10, now: clock });
    await byAge.verify('old');
    now += 499;
    await byAge.verify('old');
    expect(aged.calls).toHaveLength(1);
    now += 1;
    await byAge.verify('old');
    expect(aged.calls).toHaveLength(2);
  });

  it('never remembers a refusal', async () => {
    let refusals = 0;
    const inner: TokenVerifier = {
      verify: async () => {
        refusals += 1;
        throw new TokenVerificationError('signature', 'token signature is invalid');
      },
    };
    const verifier = rememberingTokenVerifier(inner, { rememberMs: 60_000, now: clock });
    await expect(verifier.verify('bad')).rejects.toThrow('token signature is invalid');
    await expect(verifier.verify('bad')).rejects.toThrow('token signature is invalid');
    expect(refusals).toBe(2);
  });

  it('keeps at most maxEntries tokens, and is the verifier itself with a remembering time of 0', async () => {
    const { inner, calls } = counting(() => verified());
    const verifier = rememberingTokenVerifier(inner, { rememberMs: 60_000, maxEntries: 2, now: clock });
    for (const token of ['a', 'b', 'c', 'a']) await verifier.verify(token);
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
    expect(rememberingTokenVerifier(inner, { rememberMs: 0 })).toBe(inner);
  });
});
