import { randomBytes } from 'node:crypto';
import type { Caller } from '../../lib/auth/caller';
import { IdentityTokens } from '../../lib/auth/identity-token';

const caller = { subject: 'alice', roles: ['tenant-admin'], tenantId: 't-1', authMethod: 'oidc' } as unknown as Caller;

describe('forwarded identities (signed and verified once, then cached)', () => {
  afterEach(() => jest.useRealTimers());

  it('reuses a signed identity per caller and plane, and verifies it only for its own plane', async () => {
    const tokens = new IdentityTokens(randomBytes(32));
    const forControl = await tokens.sign(caller, 'control');
    expect(await tokens.sign(caller, 'control')).toBe(forControl);
    expect(await tokens.sign(caller, 'data')).not.toBe(forControl);
    expect(await tokens.sign({ ...caller, subject: 'bob' } as Caller, 'control')).not.toBe(forControl);
    expect(await tokens.verify(forControl, 'control')).toEqual(caller);
    // Cached for control; still refused for another plane.
    expect(await tokens.verify(forControl, 'control')).toEqual(caller);
    await expect(tokens.verify(forControl, 'data')).rejects.toThrow();
  });

  it('never takes a forged or foreign token for a cached one', async () => {
    const tokens = new IdentityTokens(randomBytes(32));
    const token = await tokens.sign(caller, 'control');
    await tokens.verify(token, 'control');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    await expect(tokens.verify(`${header}.${payload}.${flipped}`, 'control')).rejects.toThrow();
    const other = await new IdentityTokens(randomBytes(32)).sign(caller, 'control');
    await expect(tokens.verify(other, 'control')).rejects.toThrow();
  });

  it('a cached identity expires with its token, and a new one is signed after half its lifetime', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z'), doNotFake: ['setImmediate', 'nextTick'] });
    const tokens = new IdentityTokens(randomBytes(32));
    const first = await tokens.sign(caller, 'control');
    await tokens.verify(first, 'control');
    jest.setSystemTime(new Date('2026-12-06T10:00:31Z'));
    const second = await tokens.sign(caller, 'control');
    expect(second).not.toBe(first);
    expect(await tokens.verify(first, 'control')).toEqual(caller);
    jest.setSystemTime(new Date('2026-12-06T10:01:10Z'));
    await expect(tokens.verify(first, 'control')).rejects.toThrow();
    expect(await tokens.verify(second, 'control')).toEqual(caller);
  });
});
