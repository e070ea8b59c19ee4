import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Agent, request } from 'undici';
import { IdentityTokens, IDENTITY_HEADER } from '../../lib/auth/identity-token';
import { streamFailed, streamToPlane } from '../../rest-adapter/plane-stream';

/**
 * The REST adapter's pass-through to a plane's HTTP route, between two real HTTP servers: a
 * stand-in plane (`node:http`) and an express app that streams to it. Small answers are
 * passed on in one write, larger ones streamed; an answer cut short never reaches the client
 * as a complete-looking body.
 */
describe('streamToPlane', () => {
  const small = randomBytes(1024);
  const large = randomBytes(200 * 1024);
  let plane: Server;
  let gateway: Server;
  let gatewayUrl: string;
  let identities: string[];
  const dispatcher = new Agent({ connections: 4 });

  const listen = (server: Server) =>
    new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

  beforeAll(async () => {
    identities = [];
    plane = createServer((req: IncomingMessage, res: ServerResponse) => {
      identities.push(String(req.headers[IDENTITY_HEADER]));
      const headers = { 'content-type': 'application/octet-stream', 'x-eosc-kept': 'yes', 'x-internal': 'no' };
      if (req.url === '/small') res.writeHead(200, { ...headers, 'content-length': String(small.length) }).end(small);
      else if (req.url === '/large') res.writeHead(200, { ...headers, 'content-length': String(large.length) }).end(large);
      else if (req.url === '/cut') {
        // Declares 1,000 bytes, sends 10, then goes away.
        res.writeHead(200, { ...headers, 'content-length': '1000' });
        res.write(Buffer.alloc(10, 1), () => res.socket?.destroy());
      } else res.writeHead(404).end();
    });
    const planeUrl = `http://127.0.0.1:${await listen(plane)}/graphql`;
    const tokens = new IdentityTokens(randomBytes(32));
    const app = express();
    app.get('/through/:path', (req, res) => {
      res.locals.caller = { subject: 'reader', roles: ['tenant-admin'], tenantId: 't1', authMethod: 'oidc' };
      res.locals.requestId = 'request-1';
      streamToPlane({ identityTokens: tokens, subgraphUrl: () => planeUrl, dispatcher }, res, {
        plane: 'data',
        path: `/${req.params.path}`,
        method: 'GET',
        forwardedResponse: /^(content-type|content-length|x-eosc-)/,
      }).catch(streamFailed(res, 'data'));
    });
    gateway = createServer(app);
    gatewayUrl = `http://127.0.0.1:${await listen(gateway)}`;
  });

  afterAll(async () => {
    await dispatcher.close();
    await new Promise((resolve) => gateway.close(resolve));
    await new Promise((resolve) => plane.close(resolve));
  });

  it.each([
    ['a small answer (one write)', '/small', small],
    ['a large answer (streamed)', '/large', large],
  ])('passes on %s byte for byte with the forwarded headers only, and the signed identity upstream', async (_, path, bytes) => {
    const answer = await request(`${gatewayUrl}/through${path}`);
    const body = Buffer.from(await answer.body.arrayBuffer());
    expect([answer.statusCode, answer.headers['content-length'], answer.headers['x-eosc-kept'], answer.headers['x-internal']]).toEqual([
      200,
      String(bytes.length),
      'yes',
      undefined,
    ]);
    expect(body.equals(bytes)).toBe(true);
    expect(identities.at(-1)).toMatch(/^ey/);
  });

  it('answers a small answer cut short by the plane with 503 and the error body, not a short 200', async () => {
    const answer = await request(`${gatewayUrl}/through/cut`);
    const body = (await answer.body.json()) as Record<string, unknown>;
    expect(answer.statusCode).toBe(503);
    expect(body).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE', message: 'the data plane is not reachable' });
    expect(answer.headers['x-eosc-kept']).toBeUndefined();
  });
});
