import type { Request } from 'express';
import type { z } from 'zod';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { MalformedInput } from '../../../lib/evidence/input-refusal';
import { findInJson, findInRawBody } from '../../../lib/input/request-input';

/** A query parameter given at most once (`''` when present without a value). */
export function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EcsError(ErrorCode.BadRequest, `${name} must be given once`, { field: name });
  return value;
}

/** A version id from the query, when given: 1..64 characters. */
export function versionIdOf(req: Request, name = 'version_id'): string | undefined {
  const value = queryText(req, name);
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > 64) throw new EcsError(ErrorCode.BadRequest, `${name} must be one version id`, { field: name });
  return value;
}

/**
 * Whether the request carries at least one byte of body. A declared length answers at once;
 * a chunked body (the gateway streams every upload that way) is read up to its first chunk,
 * which is put back, so nothing is consumed.
 */
export function carriesBody(req: Request): Promise<boolean> {
  const length = req.headers['content-length'];
  if (length !== undefined && length !== '0') return Promise.resolve(true);
  if (req.headers['transfer-encoding'] === undefined || req.readableEnded) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      outcome();
    };
    const onReadable = () => {
      const chunk = req.read() as Buffer | null;
      if (chunk === null || chunk.length === 0) return;
      req.unshift(chunk);
      settle(() => resolve(true));
    };
    const onEnd = () => settle(() => resolve(false));
    const onError = (error: Error) => settle(() => reject(error));
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const MAX_CONTROL_BODY = 64 * 1024;

/**
 * Reads a small JSON control body (legal hold, retention, multipart completion) and checks
 * it against `schema`; an empty body is `{}`. Larger than 64 KiB, not JSON, or not the
 * schema: a 4xx in the error model.
 */
export async function readJsonBody<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CONTROL_BODY) throw new EcsError(ErrorCode.PayloadTooLarge, `the request body exceeds ${MAX_CONTROL_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const invalid = findInRawBody(bytes);
  if (invalid) throw new MalformedInput(invalid);
  const text = bytes.toString('utf8').trim();
  let value: unknown = {};
  if (text !== '') {
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      throw new EcsError(ErrorCode.BadRequest, 'the request body is not valid JSON');
    }
  }
  const finding = findInJson(value, '');
  if (finding) throw new MalformedInput(finding);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw new EcsError(ErrorCode.ValidationFailed, `${field ?? 'body'}: ${issue?.message ?? 'invalid'}`, field ? { field } : {});
  }
  return parsed.data;
}
