import type { Client } from 'graphql-ws';
import { ChainCheck } from './event-check';
import type { CheckedEvent, LiveEvent } from './event-check';

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
 * `afterSequence: 0`), checking each event in the browser as it arrives.
 */
export function watchChain(
  client: Client,
  tenantId: string,
  onEvents: (events: readonly CheckedEvent[]) => void,
  onError: (message: string) => void,
): ChainWatch {
  const events: CheckedEvent[] = [];
  const check = new ChainCheck();
  const iterator = client.iterate<{ auditEvents: LiveEvent }>({ query: AUDIT_EVENTS, variables: { tenantId } });
  let scheduled = false;
  const publish = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      onEvents(events);
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
          events.push(await check.push(result.data.auditEvents));
          publish();
        }
      }
    } catch (error) {
      const closed = error as { code?: number; reason?: string };
      onError(
        closed.reason ? `connection closed ${closed.code}: ${closed.reason}` : error instanceof Error ? error.message : String(error),
      );
    }
  })();
  return { stop: () => void iterator.return?.() };
}
