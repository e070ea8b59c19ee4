import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { abandonmentSignal } from '../../lib/http/abandonment-signal';

/** A real HTTP server whose handler is the test's; closed after each test. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the signal of a caller who has gone', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('aborts when the client goes before the answer, and is made only when asked', async () => {
    let aborted: Promise<boolean> | undefined;
    const listeners: number[] = [];
    const server = await serve((_req, res) => {
      listeners.push(res.listenerCount('close'));
      const signal = abandonmentSignal(res);
      listeners.push(res.listenerCount('close'));
      const current = signal();
      listeners.push(res.listenerCount('close'));
      expect(signal()).toBe(current);
      aborted = new Promise((resolve) => current.addEventListener('abort', () => resolve(true)));
      // No answer: the client gives up.
    });
    close = server.close;
    const gone = new AbortController();
    const request = fetch(server.url, { signal: gone.signal }).catch(() => undefined);
    while (!aborted) await new Promise((resolve) => setTimeout(resolve, 5));
    gone.abort();
    await request;
    expect(await aborted).toBe(true);
    // Nothing is listened for until the signal is asked for, then one listener.
    expect(listeners).toEqual([listeners[0], listeners[0], listeners[0]! + 1]);
  });

  it('stays quiet for an answer that finished, and is aborted at once when first asked after the caller went', async () => {
    const signals: AbortSignal[] = [];
    let late: Promise<AbortSignal> | undefined;
    const server = await serve((req, res) => {
      const signal = abandonmentSignal(res);
      if (req.url === '/answered') {
        signals.push(signal());
        res.end('ok');
        return;
      }
      late = new Promise((resolve) => res.once('close', () => setImmediate(() => resolve(signal()))));
    });
    close = server.close;
    expect(await (await fetch(`${server.url}answered`)).text()).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signals[0]!.aborted).toBe(false);

    const gone = new AbortController();
    const request = fetch(`${server.url}late`, { signal: gone.signal }).catch(() => undefined);
    while (!late) await new Promise((resolve) => setTimeout(resolve, 5));
    gone.abort();
    await request;
    expect((await late).aborted).toBe(true);
  });
});
