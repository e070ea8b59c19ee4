import { EcsError, ErrorCode } from '../errors';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Validates `first`/`limit`: 1..1000, default 100; anything else is an error, never clamped. */
export function pageSize(value: number | null | undefined, field = 'first'): number {
  if (value === null || value === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new EcsError(ErrorCode.InvalidPageSize, `${field} must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
      field,
    });
  }
  return value;
}
