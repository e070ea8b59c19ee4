import type { Caller } from '../../lib/auth/caller';

/** The key a principal is counted under: its API key, or its token's issuer and subject. */
export function principalKey(caller: Caller): string {
  return caller.apiKeyId ? `key:${caller.apiKeyId}` : `sub:${caller.issuer ?? ''}|${caller.subject}`;
}

/** Open live-event connections (websockets and SSE streams) per principal in this process. */
export class PrincipalConnections {
  private readonly open = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Counts one more connection of the caller; returns its release (idempotent), or undefined when over the limit. */
  acquire(caller: Caller): (() => void) | undefined {
    const key = principalKey(caller);
    const count = this.open.get(key) ?? 0;
    if (count >= this.limit) return undefined;
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}
