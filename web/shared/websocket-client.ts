import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import { authorization } from './token-store';

/** The gateway's websocket on the page's own origin (`ws:` or `wss:`), path `/graphql`. */
export function subscriptionUrl(): string {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * A graphql-ws client that authenticates in `connection_init` with the tab's current token
 * (read at each connection, so a new token takes effect on the next connection).
 */
export function createSubscriptionClient(): Client {
  return createClient({
    url: subscriptionUrl(),
    lazy: true,
    retryAttempts: 0,
    connectionParams: () => {
      const value = authorization();
      return value ? { authorization: value } : {};
    },
  });
}
