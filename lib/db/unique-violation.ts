import { Prisma } from '../../prisma/generated/client';

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Whether `error` is a unique violation: PostgreSQL's (SQLSTATE 23505) as the drivers raise it
 * (`pg`, PGlite), of `constraint` when named, or Prisma's `P2002`.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2002';
  const raised = error as { code?: unknown; constraint?: unknown } | null | undefined;
  return raised?.code === UNIQUE_VIOLATION && (constraint === undefined || raised.constraint === constraint);
}
