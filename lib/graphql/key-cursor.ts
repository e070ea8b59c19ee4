import { EcsError, ErrorCode } from '../errors';

/**
 * Opaque keyset cursor over a unique string key (tenant ids, bucket names). It only
 * says where the previous page stopped; what the caller may see is filtered anew.
 */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');
}

export function decodeKeyCursor(cursor: string | null | undefined): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    if (cursor.length > 512) throw new Error('too long');
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && typeof (parsed as { k?: unknown }).k === 'string') {
      return (parsed as { k: string }).k;
    }
  } catch {
    // fall through to the error below
  }
  throw new EcsError(ErrorCode.InvalidCursor, 'cursor is not one this service issued', { field: 'after' });
}
