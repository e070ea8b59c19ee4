import type { Client } from 'graphql-ws';
import { ChainWindow } from './chain-window';
import { ChainCheck } from './event-check';
import type { LiveEvent } from './event-check';

const AUDIT_EVENTS = `subscription Chain($tenantId: ID!) {
  auditEvents(tenantId: $tenantId, afterSequence: 0) {
    sequence eventType outcome actor occurredAt eventHash prevHash refusalReasonCode refusalReason canonical
  }
}`;

export interface ChainWatch {
  stop(): void;
}

/**
 * Follows a tenant's chain from its first event, then live (`auditEvents` with
 * `afterSequence: 0`), checking each event in the browser as it arrives. What stays of the
 * events is a ChainWindow (counts, the newest events, the first breaks); `onEvents` is
 * called at most once per frame.
 */
export function watchChain(
  client: Client,
  tenantId: string,
  onEvents: (chain: ChainWindow) => void,
  onError: (message: string) => void,
): ChainWatch {
  const chain = new ChainWindow();
  const check = new ChainCheck();
  const iterator = client.iterate<{ auditEvents: LiveEvent }>({ query: AUDIT_EVENTS, variables: { tenantId } });
  let scheduled = false;
  const publish = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      onEvents(chain);
    });
  };
  void (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors?.length) {
          onError(result.errors.map((error) => error.message).join('; '));
          continue;
        }
        if (result.data) {
          chain.add(await check.push(result.data.auditEvents));
          publish();
        }
      }
    } catch (error) {
      onError(describeFailure(error));
    }
  })();
  return { stop: () => void iterator.return?.() };
}

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
