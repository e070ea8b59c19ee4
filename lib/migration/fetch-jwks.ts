import type { JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { parseJwks } from '../keys/verify-jws';

export interface FetchJwksOptions {
  /** Whole answer within this. @default 5000 */
  timeoutMs?: number;
  /** Largest answer accepted. @default 65536 */
  maxBytes?: number;
}

/**
 * Fetches a source deployment's published keys (`/.well-known/jwks.json`): http(s) only,
 * no redirects, within a deadline and a size limit, and only public keys.
 * @throws Error naming what went wrong (the import reports it at the signature gate)
 */
export async function fetchJwks(url: string, { timeoutMs = 5000, maxBytes = 64 * 1024 }: FetchJwksOptions = {}): Promise<JSONWebKeySet> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`${parsed.protocol} is not http or https`);
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await request(parsed, { method: 'GET', signal, headers: { accept: 'application/json' } });
  try {
    if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return parseJwks(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } finally {
    // An unread or half-read undici body reports an abort when destroyed: nobody waits for it.
    response.body.on('error', () => undefined).destroy();
  }
}
