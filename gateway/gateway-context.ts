import type { Logger } from '../lib/logger';

/** Per-request context of the gateway's Apollo server. */
export interface GatewayContext {
  requestId: string;
  log: Logger;
}
