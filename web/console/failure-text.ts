/** A failure of the subscription in words: a closed connection (a CloseEvent, whose reason may be empty) by its code. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.message;
  const closed = error as { code?: unknown; reason?: unknown };
  if (typeof closed?.code === 'number') {
    return typeof closed.reason === 'string' && closed.reason
      ? `connection closed ${closed.code}: ${closed.reason}`
      : `connection closed ${closed.code}`;
  }
  return String(error);
}
