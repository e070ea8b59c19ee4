import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { requestFetcher } from '../../lib/http/request-fetcher';
import { timedFetcher } from '../../lib/http/timed-fetcher';

describe('requestFetcher', () => {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const servers: net.Server[] = [];
  const listen = (server: net.Server): Promise<number> =>
    new Promise((resolve) => {
      servers.push(server);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  afterAll(async () => {
    await agent.close();
    for (const server of servers) server.close();
  });

  it('answers like fetch: status, ok, statusText, headers and the JSON body', async () => {
    const port = await listen(
      http.createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        req.on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.headers['x-test'] ?? '' });
          res.end(JSON.stringify({ method: req.method, body }));
        });
      }),
    );
    const response = await requestFetcher(agent)(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.statusText).toBe('Created');
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.bodyUsed).toBe(false);
    expect(await response.json()).toEqual({ method: 'POST', body: '{"query":"{ __typename }"}' });
    expect(response.bodyUsed).toBe(true);
  });

  it('gives up at the timeout on a server that accepts the connection and never completes the TLS handshake', async () => {
    const port = await listen(net.createServer(() => undefined));
    const started = Date.now();
    await expect(
      timedFetcher(requestFetcher(agent), 300)(`https://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    // undici's own connect timeout is 10 s: the signal, not the agent, ended the call.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const port = await listen(net.createServer(() => undefined));
    const controller = new AbortController();
    controller.abort(new Error('caller went away'));
    await expect(requestFetcher(agent)(`http://127.0.0.1:${port}/`, { method: 'GET', signal: controller.signal })).rejects.toThrow(
      'caller went away',
    );
  });
});
