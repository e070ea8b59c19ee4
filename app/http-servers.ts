import http from 'node:http';
import { moveUnderPrefix } from '../gateway/s3-client-url';
import type { Config } from '../lib/config/config';
import { listen } from './close-server';

/**
 * The gateway's HTTP server setup, shared by the gateway port and the S3 port. Node's request
 * deadline is one for all requests and would cut object uploads, which may take longer than
 * any fixed deadline: bodies are bounded by the app instead (a deadline for JSON bodies, an
 * idle timeout for uploads: lib/http/body-deadline.ts). Headers must arrive quickly
 * (slow-loris) and an idle socket is closed.
 */
export function createHttpServer(handler: http.RequestListener): http.Server {
  const server = http.createServer(handler);
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  server.setTimeout(120_000);
  return server;
}

/**
 * The S3 endpoint on a port of its own (`S3_PORT`): requests at the bare root (`/bucket/key`)
 * go through the gateway's app under the S3 path prefix, with the same limits, logs and
 * authentication as on the gateway port.
 */
export async function startS3PortServer(
  app: http.RequestListener,
  config: Pick<Config, 'host' | 's3'>,
  port: number,
): Promise<{ server: http.Server; port: number }> {
  const server = createHttpServer((req, res) => {
    moveUnderPrefix(req, config.s3.pathPrefix);
    app(req, res);
  });
  return { server, port: await listen(server, port, config.host) };
}
