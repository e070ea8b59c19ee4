import type { Request, RequestHandler } from 'express';
import { EcsError, ErrorCode } from '../errors';
import { sendError } from './error-body';

export interface BodyDeadlineOptions {
  /** A body must have arrived whole this long after the request head (`BODY_TIMEOUT_MS`). */
  timeoutMs: number;
  /** A streamed body may go this long without a byte arriving (`BODY_IDLE_TIMEOUT_MS`). */
  idleTimeoutMs: number;
  /** Requests whose body may be gigabytes (storage uploads): they get the idle timeout instead of the deadline. */
  streamed(req: Request): boolean;
}

/** True when the request declares a body: a Content-Length above zero, or a Transfer-Encoding. */
export function declaresBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Bounds how long any request body may take to arrive, before and after authentication.
 * Node's own `server.requestTimeout` cannot do it: it is one deadline for every request and
 * would cut long uploads, so it stays off and this middleware (mounted first) does it.
 *
 * A late body is answered 408 (`ECS_REQUEST_TIMEOUT`, `Connection: close`) and the connection
 * closed. When an answer was already sent (a 401 or 413 before the body), Node reads and
 * drops the rest of the body so the client sees the answer; that too ends at the deadline.
 */
export function bodyDeadline(options: BodyDeadlineOptions): RequestHandler {
  // How often a streamed body is looked at; the idle timeout is met within one tick.
  const tick = Math.min(1000, Math.max(20, Math.floor(options.idleTimeoutMs / 4)));
  return (req, res, next) => {
    if (!declaresBody(req) || req.complete) return next();
    const { socket } = req;
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const stop = () => {
      clearTimeout(timer);
      clearInterval(timer);
      req.off('end', stop);
      socket.off('close', stop);
    };
    const expire = () => {
      expired = true;
      stop();
      if (req.complete || socket.destroyed) return;
      if (res.headersSent) {
        socket.destroy();
        return;
      }
      res.setHeader('connection', 'close');
      sendError(res, new EcsError(ErrorCode.RequestTimeout, 'the request body did not arrive in time; the connection is closed'));
    };
    const deadline = () => {
      timer = setTimeout(expire, options.timeoutMs).unref();
    };
    if (options.streamed(req)) {
      let seen = socket.bytesRead;
      let quietSince = Date.now();
      timer = setInterval(() => {
        if (req.complete) return stop();
        // Bytes arrived, or bytes are waiting for us to read them (the slow side is not the client).
        if (socket.bytesRead !== seen || req.readableLength > 0) {
          seen = socket.bytesRead;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= options.idleTimeoutMs) {
          expire();
        }
      }, tick).unref();
      // Answered before the upload ended (a refusal): what is left is read and dropped, so the
      // client sees the answer, but only until the deadline; a trickle cannot keep it open.
      res.once('finish', () => {
        if (expired || req.complete || socket.destroyed) return;
        clearInterval(timer);
        deadline();
      });
    } else {
      deadline();
    }
    req.once('end', stop);
    socket.once('close', stop);
    next();
  };
}
