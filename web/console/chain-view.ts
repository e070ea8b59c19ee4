import type { Client } from 'graphql-ws';
import { ChainWindow } from './chain-window';
import { describeFailure } from './failure-text';
import { ChainCheck } from './event-check';
import type { LiveEvent } from './event-check';

const AUDIT_EVENTS = `subscription Chain($tenantId: ID!) {
  auditEvents(tenantId: $tenantId, afterSequence: 0) {
    sequence eventType outcome actor occurredAt eventHash prevHash refusalReasonCode refusalReason canonical
  }
}`;

/** Least time between two drawings of the page, in ms: a long chain streaming in is checked, not drawn, most of the time. */
const MIN_DRAW_INTERVAL_MS = 1000;

/** Events whose digests may be under way at once. */
const MAX_CHECKING = 256;

export interface ChainWatch {
  stop(): void;
}

/**
 * Follows a tenant's chain from its first event, then live (`auditEvents` with
 * `afterSequence: 0`), checking each event in the browser as it arrives. What stays of the
 * events is a ChainWindow (counts, the newest events, the first breaks); `onEvents` is
 * called at most once per frame and every MIN_DRAW_INTERVAL_MS.
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
  /** Once stopped (another tenant picked), nothing more of this watch reaches the page. */
  let stopped = false;
  let drawn = Number.NEGATIVE_INFINITY;
  const draw = () =>
    requestAnimationFrame(() => {
      scheduled = false;
      if (stopped) return;
      drawn = performance.now();
      onEvents(chain);
    });
  // While a long chain streams in, drawing every frame would take the thread from checking it.
  const publish = () => {
    if (scheduled) return;
    scheduled = true;
    const wait = drawn + MIN_DRAW_INTERVAL_MS - performance.now();
    if (wait > 0) setTimeout(draw, wait);
    else draw();
  };
  // Checked events join the window in chain order; up to MAX_CHECKING digests run at once.
  let added: Promise<void> = Promise.resolve();
  let checking = 0;
  void (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors?.length) {
          if (!stopped) onError(result.errors.map((error) => error.message).join('; '));
          continue;
        }
        if (result.data) {
          const checked = check.push(result.data.auditEvents);
          checking += 1;
          added = added.then(async () => {
            chain.add(await checked);
            checking -= 1;
            publish();
          });
          if (checking >= MAX_CHECKING) await added;
        }
      }
      await added;
    } catch (error) {
      await added.catch(() => undefined);
      if (!stopped) onError(describeFailure(error));
    }
  })();
  return {
    stop: () => {
      stopped = true;
      void iterator.return?.();
    },
  };
}
