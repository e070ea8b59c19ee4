import { randomBytes } from 'node:crypto';
import { EcsError } from '../../lib/errors';
import { CursorCodec } from '../../lib/graphql/signed-cursor';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof EcsError ? error.code : 'not an EcsError';
  }
  return undefined;
}

describe('signed cursors', () => {
  const secret = randomBytes(32);
  const scope = { listing: 'events', filter: { tenantId: 'acme' } };

  it('round-trips a position for the same scope', () => {
    const codec = new CursorCodec(secret);
    expect(codec.decode(codec.encode({ c: 'ecs:tenant:acme', s: 42 }, scope), scope)).toEqual({ c: 'ecs:tenant:acme', s: 42 });
  });

  it('checklist 18: refuses a cursor used with other arguments or another tenant', () => {
    const codec = new CursorCodec(secret);
    const cursor = codec.encode({ c: 'ecs:tenant:acme', s: 42 }, scope);
    expect(codeOf(() => codec.decode(cursor, { listing: 'events', filter: { tenantId: 'globex' } }))).toBe('ECS_INVALID_CURSOR');
    expect(codeOf(() => codec.decode(cursor, { listing: 'events', filter: { tenantId: 'acme', outcomes: ['refused'] } }))).toBe(
      'ECS_INVALID_CURSOR',
    );
  });

  it('checklist 17: refuses forged, truncated, garbage and oversized cursors', () => {
    const codec = new CursorCodec(secret);
    const cursor = codec.encode({ c: 'ecs:tenant:acme', s: 42 }, scope);
    const [body] = cursor.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ p: { c: 'ecs:tenant:acme', s: 1 }, s: 'x', t: 0 })).toString('base64url');
    for (const bad of [
      `${forgedBody}.${cursor.split('.')[1]}`,
      cursor.slice(0, -3),
      `${body}`,
      `${cursor}.extra`,
      'garbage',
      '',
      'a'.repeat(5000),
      new CursorCodec(randomBytes(32)).encode({ c: 'ecs:tenant:acme', s: 42 }, scope),
    ]) {
      expect(codeOf(() => codec.decode(bad, scope))).toBe('ECS_INVALID_CURSOR');
    }
  });

  it('checklist 17: refuses an expired cursor with its own code', () => {
    let now = Date.now();
    const codec = new CursorCodec(secret, 60_000, () => now);
    const cursor = codec.encode({ c: 'x', s: 1 }, scope);
    now += 61_000;
    expect(codeOf(() => codec.decode(cursor, scope))).toBe('ECS_CURSOR_EXPIRED');
  });
});
