/** Prisma codes of a database that cannot be reached or dropped the connection. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Node socket errors. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Driver adapter error kinds (`@prisma/driver-adapter-utils`) of the same situations. */
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'SocketTimeout',
  'ConnectionClosed',
  'TooManyConnections',
  'TransactionAlreadyClosed',
]);
/** Messages of node-postgres' pool and client when the server is gone. */
const MESSAGES =
  /connection terminated|connection error|timeout exceeded when trying to connect|server closed the connection|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|Can't reach database server|Server has closed the connection/i;

/**
 * Whether an error (or any error in its `cause` chain) says the database is unreachable,
 * restarting or dropped the connection: a temporary outage, answered with 503
 * `ECS_DEPENDENCY_UNAVAILABLE` rather than as an internal error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, kind, message, cause, originalCode } = current as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
      originalCode?: unknown;
    };
    if (typeof code === 'string' && (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || /^08|^57P0[123]$|^53300$/.test(code))) return true;
    if (typeof originalCode === 'string' && /^08|^57P0[123]$/.test(originalCode)) return true;
    if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}
