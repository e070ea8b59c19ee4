import type { Caller } from '../lib/auth/caller';
import type { Logger } from '../lib/logger';

/** Per-request context of the gateway's Apollo server. */
export interface GatewayContext {
  requestId: string;
  log: Logger;
  /** The authenticated caller, forwarded to the planes as a signed identity. */
  caller: Caller;
}
