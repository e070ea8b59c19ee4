import type { Response } from 'express';
import { ERROR_STATUS, type ErrorCode } from '../../lib/errors';
import { S3Error } from '../../lib/s3/s3-error';
import { xmlDocument } from './s3-xml';

/** The header that carries the evidence pointer of a refusal next to the S3 error document. */
export const EVIDENCE_POINTER_HEADER = 'x-eosc-evidence-pointer';

/** An error as the S3 endpoint answers it: S3's code, or the EOSC code of a governance refusal. */
export interface S3ErrorAnswer {
  code: string;
  status: number;
  message: string;
  evidencePointer?: string;
}

/** What the operation acted on, so a not-found names the right thing. */
export type S3Subject = 'service' | 'bucket' | 'object';

/** The S3 answer for an ECS or EOSC error code (from the data plane or a GraphQL operation). */
export function fromEcsCode(code: string, message: string, subject: S3Subject, evidencePointer?: string): S3ErrorAnswer {
  const status = (ERROR_STATUS as Record<string, number>)[code] ?? 500;
  const s3 = (s3Code: string, s3Status = status): S3ErrorAnswer => ({ code: s3Code, status: s3Status, message, evidencePointer });
  if (code.startsWith('EOSC_')) return code === 'EOSC_OBJECT_TOO_LARGE' ? s3('EntityTooLarge') : s3(code);
  switch (code as ErrorCode) {
    case 'ECS_NOT_FOUND':
      return s3(subject === 'object' ? 'NoSuchKey' : 'NoSuchBucket', 404);
    case 'ECS_FORBIDDEN':
    case 'ECS_UNAUTHENTICATED':
    case 'ECS_POLICY_DENIED':
    case 'ECS_MISSING_AUTHORITY':
    case 'ECS_JURISDICTION_DENIED':
      return s3('AccessDenied', 403);
    case 'ECS_CONFLICT':
      return s3(subject === 'bucket' ? 'BucketAlreadyOwnedByYou' : 'OperationAborted', 409);
    case 'ECS_PAYLOAD_TOO_LARGE':
      return s3('EntityTooLarge', 400);
    case 'ECS_RATE_LIMITED':
      return s3('SlowDown', 503);
    case 'ECS_DEPENDENCY_UNAVAILABLE':
      return s3('ServiceUnavailable', 503);
    case 'ECS_REQUEST_TIMEOUT':
      return s3('RequestTimeout', 400);
    case 'ECS_INTERNAL':
      return s3('InternalError', 500);
    default:
      return s3('InvalidArgument', 400);
  }
}

export function fromS3Error(error: S3Error, evidencePointer?: string): S3ErrorAnswer {
  return { code: error.code, status: error.status, message: error.message, evidencePointer };
}

/** Sends S3's XML error document (the body is left out for HEAD, as S3 does). */
export function sendS3Error(res: Response, answer: S3ErrorAnswer, resource: string): void {
  const { requestId } = res.locals as { requestId?: string };
  res.status(answer.status);
  res.setHeader('content-type', 'application/xml');
  if (requestId) res.setHeader('x-amz-request-id', requestId);
  if (answer.evidencePointer) res.setHeader(EVIDENCE_POINTER_HEADER, answer.evidencePointer);
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  const body: Record<string, unknown> = { Code: answer.code, Message: answer.message, Resource: resource };
  if (requestId) body.RequestId = requestId;
  if (answer.evidencePointer) body.EvidencePointer = answer.evidencePointer;
  res.end(xmlDocument('Error', body, false));
}

/** Any failure of an S3 request as an answer: S3 refusals as they are, the rest masked. */
export function answerFor(error: unknown, subject: S3Subject): S3ErrorAnswer {
  if (error instanceof S3Error) return fromS3Error(error);
  const ecs = error as { code?: unknown; message?: unknown; evidencePointer?: unknown };
  if (typeof ecs.code === 'string' && (ecs.code.startsWith('ECS_') || ecs.code.startsWith('EOSC_'))) {
    const pointer = typeof ecs.evidencePointer === 'string' ? ecs.evidencePointer : undefined;
    return fromEcsCode(ecs.code, String(ecs.message ?? ''), subject, pointer);
  }
  return { code: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' };
}
