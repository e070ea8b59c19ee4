import type { z } from 'zod';
import { EcsError, ErrorCode } from '../errors';

/** Validates a mutation input; the first problem becomes an `ECS_VALIDATION_FAILED` naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'input';
  throw new EcsError(ErrorCode.ValidationFailed, `${field} ${issue.message}`, { field });
}
