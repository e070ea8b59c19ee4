import { parseTimestamp } from '../../lib/domain/timestamp';

/** Longest delay Node's timers take (about 24.8 days); an expiry further ahead is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expired` when `expiresAt` (a token's `exp`, an API key's expiry) has passed; never
 * when it is undefined. Returns a function that cancels.
 */
export function onCredentialExpiry(expiresAt: string | undefined, expired: () => void): () => void {
  if (expiresAt === undefined) return () => undefined;
  // An expiry that cannot be read counts as past (fail closed).
  const at = parseTimestamp(expiresAt)?.getTime() ?? 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - Date.now();
    if (!(left > 0)) {
      expired();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  // Not at once even when already past: the caller finishes setting up first.
  timer = setTimeout(arm, Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS));
  return () => clearTimeout(timer);
}
