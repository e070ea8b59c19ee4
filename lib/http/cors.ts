import type { RequestHandler } from 'express';
import { GOVERNANCE_HEADER_NAMES } from '../domain/governance-headers';

const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'x-correlation-id',
  'idempotency-key',
  'apollo-require-preflight',
  ...GOVERNANCE_HEADER_NAMES,
  'x-eosc-legal-hold',
].join(', ');

const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'etag',
  'deprecation',
  'sunset',
  'link',
  'x-eosc-version-id',
].join(', ');

/**
 * CORS for the portals listed in `CORS_ORIGINS` (exact origins). Any other origin gets no
 * CORS header at all, so an arbitrary origin is never reflected, with or without
 * credentials. Preflights of listed origins are answered here, before authentication.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (typeof origin !== 'string' || !allowed.has(origin)) return next();
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.setHeader('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE');
      res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
