import type { WebSocket, WebSocketServer } from 'ws';
import { subscriptionBufferedSources, subscriptionConnections, subscriptionsClosed } from '../../lib/metrics/service-metrics';
import { CloseCode } from './close-codes';

const REASONS = new Map<number, string>([
  [1000, 'normal'],
  [1005, 'no_status'],
  [1006, 'abnormal'],
  [4500, 'internal_error'],
  ...Object.entries(CloseCode).map(
    ([name, code]) => [code, name.replace(/[A-Z]/g, (letter, index) => `${index ? '_' : ''}${letter.toLowerCase()}`)] as const,
  ),
]);

/** The `reason` label of a close code: a name for every known code, `other` for the rest. */
export function closeReasonLabel(code: number): string {
  return REASONS.get(code) ?? 'other';
}

/**
 * Counts the server's connections and their closes by reason, and adds the bytes queued on
 * its sockets to `ecs_subscription_buffered_bytes`. Returns a function that stops counting.
 */
export function trackSubscriptionServer(wss: WebSocketServer): () => void {
  const buffered = (): number => {
    let bytes = 0;
    for (const client of wss.clients) bytes += client.bufferedAmount;
    return bytes;
  };
  subscriptionBufferedSources.add(buffered);
  const onConnection = (socket: WebSocket): void => {
    subscriptionConnections.inc();
    socket.once('close', (code: number) => {
      subscriptionConnections.dec();
      subscriptionsClosed.inc({ reason: closeReasonLabel(code) });
    });
  };
  wss.on('connection', onConnection);
  return () => {
    subscriptionBufferedSources.delete(buffered);
    wss.off('connection', onConnection);
  };
}
