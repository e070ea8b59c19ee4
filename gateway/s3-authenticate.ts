import type { Request, RequestHandler, Response } from 'express';
import { clientUrlOf } from './s3-client-url';
import type { RefusalThrottle } from '../lib/evidence/refusal-throttle';
import type { RequestLocals } from '../lib/http/request-log';
import { S3Error } from '../lib/s3/s3-error';
import type { ChunkSigningSeed } from '../lib/s3/sigv4-verify';
import { verifyS3Request } from '../lib/s3/sigv4-verify';
import type { PayloadMode } from '../lib/s3/sigv4-payload';
import type { AuthenticatedLocals } from './authenticate';
import type { S3CallerCredential } from './s3-credential-lookup';

/** What an S3 route knows after SigV4 verification: the caller, and how the body is vouched for. */
export interface S3Locals extends AuthenticatedLocals {
  s3: { payload: PayloadMode; seed: ChunkSigningSeed; presigned: boolean };
}

export interface S3AuthenticateOptions {
  findCredential(
    accessKeyId: string,
    scope: { date: string; region: string; service: string },
    requestId: string,
  ): Promise<S3CallerCredential | undefined>;
  /** The region clients sign for. */
  region: string;
  throttle: RefusalThrottle;
  /** Answers a refusal in S3's form (XML error document with the evidence pointer). */
  refuse(res: Response, error: S3Error, evidencePointer: string | undefined): void;
}

/**
 * Authenticates an S3 request by its SigV4 signature (header or presigned URL). A refusal is
 * evidenced like any failed authentication (`authority.refusal`, bounded per address) and
 * answered with S3's error code.
 */
export function s3Authenticate(options: S3AuthenticateOptions): RequestHandler {
  return async (req, res, next) => {
    const locals = res.locals as S3Locals;
    try {
      const url = clientUrlOf(req);
      const queryAt = url.indexOf('?');
      const verified = await verifyS3Request(
        {
          method: req.method,
          rawPath: queryAt === -1 ? url : url.slice(0, queryAt),
          rawQuery: queryAt === -1 ? '' : url.slice(queryAt + 1),
          headers: req.headersDistinct,
        },
        { findCredential: (id, scope) => options.findCredential(id, scope, locals.requestId), region: options.region },
      );
      locals.caller = verified.credential.caller;
      locals.s3 = { payload: verified.payload, seed: verified.seed, presigned: verified.presigned };
      next();
    } catch (error) {
      if (!(error instanceof S3Error)) {
        next(error);
        return;
      }
      options.refuse(res, error, await recordRefusal(options.throttle, req, locals, error));
    }
  };
}

function recordRefusal(throttle: RefusalThrottle, req: Request, locals: RequestLocals, error: S3Error): Promise<string | undefined> {
  const reasonCode = `s3_${error.code}`;
  return throttle
    .record(`${req.socket.remoteAddress ?? 'unknown'}:${reasonCode}`, {
      actor: 'unauthenticated',
      correlationId: locals.requestId,
      eventType: 'authority.refusal',
      refusal: { reasonClass: 'authority_missing_or_invalid', reasonCode, subject: `${req.method} ${req.baseUrl}`, reason: error.message },
    })
    .catch((cause: unknown) => {
      locals.log.error({ err: cause }, 'refusal evidence not recorded');
      return undefined;
    });
}
