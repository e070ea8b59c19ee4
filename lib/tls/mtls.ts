import type http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Agent, fetch, type RequestInfo, type RequestInit, type Response } from 'undici';
import type { TlsMaterial } from './tls-material';

/** Answered with HTTP 403 when a peer's certificate chains to the CA but its CN is not allowed. */
export const FORBIDDEN_CLIENT_CERTIFICATE = 'ECS_FORBIDDEN_CLIENT_CERTIFICATE';

export interface MtlsServerOptions {
  /**
   * Subject CNs allowed to call. Every certificate of the PKI chains to the same CA (the
   * subgraphs' server certificate included), so the chain alone does not identify the gateway.
   */
  allowedClientCommonNames: string[];
}

/** An HTTPS server that only hands requests from allowed client certificates to `handler`. */
export function createMtlsServer(material: TlsMaterial, handler: http.RequestListener, options: MtlsServerOptions): https.Server {
  const allowed = new Set(options.allowedClientCommonNames);
  // The verdict belongs to the TLS session: decide once per keep-alive socket, not per request.
  const verdicts = new WeakMap<TLSSocket, boolean>();
  const isAllowed = (socket: TLSSocket): boolean => {
    let verdict = verdicts.get(socket);
    if (verdict === undefined) {
      verdict = socket.authorized && allowed.has(peerCommonName(socket) ?? '');
      verdicts.set(socket, verdict);
    }
    return verdict;
  };
  return https.createServer(
    {
      ca: material.ca,
      cert: material.serverCert,
      key: material.serverKey,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (request, response) => {
      if (isAllowed(request.socket as TLSSocket)) {
        handler(request, response);
        return;
      }
      const body = JSON.stringify({
        code: FORBIDDEN_CLIENT_CERTIFICATE,
        message: 'client certificate not allowed',
      });
      response.writeHead(403, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    },
  );
}

/** The subject CN, or undefined when absent or ambiguous (a subject may repeat CN). */
function peerCommonName(socket: TLSSocket): string | undefined {
  const commonName: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof commonName === 'string' ? commonName : undefined;
}

export interface MtlsAgentOptions {
  /** Most sockets per origin. @default unlimited */
  connections?: number;
  /**
   * How long an idle socket is kept, in ms. Keep it below the server's keep-alive timeout
   * (Node's default is 5000) or a request may be sent on a socket the server is closing.
   * @default 4000
   */
  keepAliveTimeoutMs?: number;
}

/** A keep-alive pool that presents the client certificate and trusts only `material.ca`. */
export function createMtlsAgent(material: TlsMaterial, options: MtlsAgentOptions = {}): Agent {
  return new Agent({
    connect: { ca: material.ca, cert: material.clientCert, key: material.clientKey, minVersion: 'TLSv1.2' },
    connections: options.connections ?? null,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4000,
  });
}

/** undici's `fetch` bound to `agent`; assignable to Apollo's `Fetcher` for `RemoteGraphQLDataSource`. */
export function fetchWithAgent(agent: Agent): (input: RequestInfo, init?: RequestInit) => Promise<Response> {
  return (input, init) => fetch(input, { ...init, dispatcher: agent });
}
