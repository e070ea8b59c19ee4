import type { NextFunction, Request, Response } from 'express';
import { ERROR_STATUS, EcsError, ErrorCode } from '../errors';
import type { RequestLocals } from './request-log';

/** The spec's error body: `{ code, message, evidence_pointer }`. */
export interface ErrorBody {
  code: string;
  message: string;
  evidence_pointer?: string;
}

export function sendError(res: Response, error: EcsError): void {
  const body: ErrorBody = { code: error.code, message: error.message };
  if (error.evidencePointer) body.evidence_pointer = error.evidencePointer;
  // ECS_RATE_LIMITED promises a Retry-After; limiters that know the wait set it first, and a
  // limit met inside an operation (expensive operations, exports in flight) says a second.
  if (error.code === ErrorCode.RateLimited && !res.hasHeader('retry-after')) res.setHeader('retry-after', '1');
  res.status(ERROR_STATUS[error.code]).json(body);
}

/** Answers any path nobody handled with a 404 error body. */
export function notFound(req: Request, res: Response): void {
  sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.path}`));
}

/** Last express error handler: body parser failures become 400/413/415, the rest a masked 500. */
export function errorBody(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  if (error instanceof EcsError) return sendError(res, error);
  const status = (error as { status?: number; type?: string }).status;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large' || status === 413) {
    res.status(413).json({ code: ErrorCode.BadRequest, message: 'request body too large' });
    return;
  }
  if (type === 'entity.parse.failed') {
    return sendError(res, new EcsError(ErrorCode.BadRequest, 'request body is not valid JSON'));
  }
  if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported') {
    res.status(415).json({ code: ErrorCode.BadRequest, message: 'unsupported content type or encoding' });
    return;
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendError(res, new EcsError(ErrorCode.BadRequest, 'bad request'));
  }
  (res.locals as Partial<RequestLocals>).log?.error({ err: error }, 'unhandled error');
  sendError(res, new EcsError(ErrorCode.Internal, 'internal error'));
}
