import { Readable } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import type { Request, Response } from 'express';
import { XMLParser } from 'fast-xml-parser';
import type { GatewayContext } from '../../gateway/gateway-context';
import type { S3Locals } from '../../gateway/s3-authenticate';
import { EcsError, ErrorCode } from '../../lib/errors';
import { S3Error } from '../../lib/s3/s3-error';
import { executeOperation } from '../execute-operation';
import type { PlaneStreamOptions } from '../plane-stream';
import { EVIDENCE_POINTER_HEADER, fromEcsCode, sendS3Error } from './s3-error-document';
import type { S3ObjectTarget } from './s3-object-operations';
import { type PlaneAnswer, dataPlaneRequest, planeError } from './s3-plane-request';
import { uploadBody } from './s3-upload-body';
import { xmlDocument } from './s3-xml';

/** What the lock and version operations need: the data plane hop and GraphQL for bucket settings. */
export interface S3LockOptions extends PlaneStreamOptions {
  apollo: ApolloServer<GatewayContext>;
}

/** A retention or legal hold document is a few hundred bytes; anything past this is refused. */
const MAX_DOCUMENT_BYTES = 64 * 1024;
const BYPASS_HEADER = 'x-amz-bypass-governance-retention';

export interface BucketSettings {
  name: string;
  versioning: boolean;
  lockMode: 'compliance' | 'governance';
  defaultRetention: string | null;
}

/** The GraphQL context of an S3 request: its id, logger and authenticated caller. */
export function gatewayContextOf(res: Response): GatewayContext {
  const { requestId, log, caller } = res.locals as S3Locals;
  return { requestId, log, caller };
}

/** The bucket's versioning and lock settings, as the data plane records them (NoSuchBucket when not visible). */
export async function bucketSettings(apollo: ApolloServer<GatewayContext>, bucket: string, res: Response): Promise<BucketSettings> {
  const data = await executeOperation<{ bucket: BucketSettings | null }>(
    apollo,
    gatewayContextOf(res),
    'query S3BucketSettings($name: ID!) { bucket(name: $name) { name versioning lockMode defaultRetention } }',
    { name: bucket },
  );
  if (!data.bucket) throw new EcsError(ErrorCode.NotFound, 'The specified bucket does not exist');
  return data.bucket;
}

/** Reads a small XML request body (checked against its signature as it streams) and parses it. */
export async function readXmlBody(req: Request, res: Response): Promise<Record<string, unknown>> {
  const upload = uploadBody(req, (res.locals as S3Locals).s3);
  let text = '';
  for await (const chunk of upload.body) {
    text += String(chunk);
    if (text.length > MAX_DOCUMENT_BYTES) throw new S3Error('InvalidRequest', 'The request document is too large.');
  }
  const failure = upload.failure();
  if (failure) throw failure;
  if (text.trim() === '') throw malformed();
  try {
    return new XMLParser({ processEntities: false, parseTagValue: false }).parse(text) as Record<string, unknown>;
  } catch {
    throw malformed();
  }
}

function malformed(): S3Error {
  return new S3Error('InvalidArgument', 'The XML you provided was not well-formed or did not validate against our published schema.');
}

function objectPlanePath(target: S3ObjectTarget, operation?: string): string {
  const path = `/data/storage/${encodeURIComponent(target.bucket)}/objects/${target.key.split('/').map(encodeURIComponent).join('/')}`;
  const query = new URLSearchParams();
  if (operation) query.set(operation, '');
  if (target.versionId !== undefined) query.set('version_id', target.versionId);
  const text = query.toString().replace(/=(&|$)/, '$1');
  return text === '' ? path : `${path}?${text}`;
}

function notFoundAnswer(target: S3ObjectTarget, message: string) {
  if (/bucket/i.test(message) && !/object|version/i.test(message)) return fromEcsCode('ECS_NOT_FOUND', message, 'bucket');
  if (target.versionId !== undefined) return { code: 'NoSuchVersion', status: 404, message: 'The specified version does not exist.' };
  return { code: 'NoSuchKey', status: 404, message: 'The specified key does not exist.' };
}

async function refuse(res: Response, answer: PlaneAnswer, target: S3ObjectTarget): Promise<void> {
  const error = await planeError(answer);
  const s3 =
    error.code === 'ECS_NOT_FOUND'
      ? notFoundAnswer(target, error.message)
      : fromEcsCode(error.code, error.message, 'object', error.evidencePointer);
  sendS3Error(res, s3, target.resource);
}

/** The lock state of the addressed version, from the data plane's HEAD (no evidence is written for a read of metadata). */
async function lockState(
  options: S3LockOptions,
  res: Response,
  target: S3ObjectTarget,
): Promise<{ retentionUntil?: string; legalHold: boolean; lockMode?: string; versionId?: string } | undefined> {
  const answer = await dataPlaneRequest(options, res, { path: objectPlanePath(target), method: 'HEAD', headers: {} });
  await answer.body.dump();
  if (answer.statusCode === 404) {
    sendS3Error(res, notFoundAnswer(target, 'object'), target.resource);
    return undefined;
  }
  if (answer.statusCode >= 300) {
    sendS3Error(res, fromEcsCode(answer.statusCode === 400 ? 'ECS_BAD_REQUEST' : 'ECS_FORBIDDEN', 'refused', 'object'), target.resource);
    return undefined;
  }
  const header = (name: string) => {
    const value = answer.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    retentionUntil: header('x-eosc-retention-until'),
    legalHold: header('x-eosc-legal-hold') === 'ON',
    lockMode: header('x-eosc-lock-mode'),
    versionId: header('x-eosc-version-id'),
  };
}

async function sendPlaneChange(
  options: S3LockOptions,
  res: Response,
  target: S3ObjectTarget,
  operation: 'legal_hold' | 'retention',
  body: Record<string, unknown>,
): Promise<void> {
  const json = JSON.stringify(body);
  const answer = await dataPlaneRequest(options, res, {
    path: objectPlanePath(target, operation),
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) },
    body: Readable.from([Buffer.from(json)]),
  });
  if (answer.statusCode >= 300) return refuse(res, answer, target);
  const result = (await answer.body.json()) as { version_id?: unknown };
  const pointer = answer.headers[EVIDENCE_POINTER_HEADER];
  if (typeof pointer === 'string') res.setHeader(EVIDENCE_POINTER_HEADER, pointer);
  if (typeof result.version_id === 'string') res.setHeader('x-amz-version-id', result.version_id);
  res.status(200).end();
}

/** S3's retention mode for a version's (or else the bucket's) lock mode. */
function s3Mode(lockMode: string | undefined): 'GOVERNANCE' | 'COMPLIANCE' {
  return lockMode === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE';
}

/** GetObjectRetention: the version's retention end and the lock mode it is held in. */
export async function getObjectRetention(options: S3LockOptions, _req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const settings = await bucketSettings(options.apollo, target.bucket, res);
  const state = await lockState(options, res, target);
  if (!state) return;
  if (!state.retentionUntil) {
    return sendS3Error(
      res,
      { code: 'NoSuchObjectLockConfiguration', status: 404, message: 'The specified object does not have a ObjectLock configuration' },
      target.resource,
    );
  }
  res.status(200).type('application/xml');
  res.send(xmlDocument('Retention', { Mode: s3Mode(state.lockMode ?? settings.lockMode), RetainUntilDate: state.retentionUntil }));
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  return undefined;
}

/**
 * PutObjectRetention: `RetainUntilDate` becomes the version's retention end. The mode is the
 * bucket's (the data plane fixes it per bucket): asking for the other one is refused.
 * `x-amz-bypass-governance-retention: true` shortens a retention in a governance-mode bucket.
 */
export async function putObjectRetention(options: S3LockOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const document = await readXmlBody(req, res);
  const retention = document.Retention as Record<string, unknown> | undefined;
  if (!retention || typeof retention !== 'object') throw malformed();
  const mode = textOf(retention.Mode);
  const until = textOf(retention.RetainUntilDate);
  if (mode === undefined || until === undefined) {
    throw new S3Error('InvalidRequest', 'Removing a retention is not allowed: Mode and RetainUntilDate are required.');
  }
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new S3Error('InvalidRequest', 'Mode must be GOVERNANCE or COMPLIANCE.');
  const date = new Date(until);
  if (Number.isNaN(date.getTime())) throw new S3Error('InvalidRequest', 'RetainUntilDate must be a date and time.');
  const settings = await bucketSettings(options.apollo, target.bucket, res);
  if (mode !== s3Mode(settings.lockMode)) {
    throw new S3Error(
      'InvalidRequest',
      `The bucket's objects are locked in ${s3Mode(settings.lockMode)} mode; the mode is set per bucket and cannot be ${mode} here.`,
    );
  }
  const bypass = String(req.headers[BYPASS_HEADER] ?? '').toLowerCase() === 'true';
  await sendPlaneChange(options, res, target, 'retention', {
    retention_ttl: date.toISOString().replace(/\.000Z$/, 'Z'),
    ...(bypass ? { bypass_governance: true } : {}),
  });
}

/** GetObjectLegalHold: ON or OFF for the addressed version. */
export async function getObjectLegalHold(options: S3LockOptions, _req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const state = await lockState(options, res, target);
  if (!state) return;
  res.status(200).type('application/xml');
  res.send(xmlDocument('LegalHold', { Status: state.legalHold ? 'ON' : 'OFF' }));
}

/** PutObjectLegalHold: places (ON) or releases (OFF) a legal hold, evidenced as `object.legal_hold`. */
export async function putObjectLegalHold(options: S3LockOptions, req: Request, res: Response, target: S3ObjectTarget): Promise<void> {
  const document = await readXmlBody(req, res);
  const status = textOf((document.LegalHold as Record<string, unknown> | undefined)?.Status);
  if (status !== 'ON' && status !== 'OFF') throw malformed();
  await sendPlaneChange(options, res, target, 'legal_hold', { status });
}

/** S3's default retention rule for an ISO 8601 duration S3 can express (whole days, weeks or years). */
function defaultRetentionRule(duration: string | null, mode: 'GOVERNANCE' | 'COMPLIANCE'): Record<string, unknown> | undefined {
  if (!duration) return undefined;
  const days = /^P(\d+)D$/.exec(duration);
  if (days) return { DefaultRetention: { Mode: mode, Days: Number(days[1]) } };
  const weeks = /^P(\d+)W$/.exec(duration);
  if (weeks) return { DefaultRetention: { Mode: mode, Days: Number(weeks[1]) * 7 } };
  const years = /^P(\d+)Y$/.exec(duration);
  if (years) return { DefaultRetention: { Mode: mode, Years: Number(years[1]) } };
  return undefined;
}

/**
 * GetObjectLockConfiguration: every bucket of the data plane locks its objects (each object
 * carries a retention), so object lock is always `Enabled`; the rule is the bucket's
 * `default_retention` in its lock mode when S3 can express it in days or years.
 */
export async function getObjectLockConfiguration(options: S3LockOptions, bucket: string, res: Response): Promise<void> {
  const settings = await bucketSettings(options.apollo, bucket, res);
  const rule = defaultRetentionRule(settings.defaultRetention, s3Mode(settings.lockMode));
  res.status(200).type('application/xml');
  res.send(xmlDocument('ObjectLockConfiguration', { ObjectLockEnabled: 'Enabled', ...(rule ? { Rule: rule } : {}) }));
}

type ObjectHandler = (options: S3LockOptions, req: Request, res: Response, target: S3ObjectTarget) => Promise<void>;

/** The lock operation an object request names (`?retention`, `?legal-hold`), if any. */
export function objectLockOperation(method: string, parameters: readonly string[]): ObjectHandler | undefined {
  const named = parameters.filter((name) => name !== 'versionId');
  if (named.length !== 1) return undefined;
  const [operation] = named;
  if (operation === 'retention') return method === 'GET' ? getObjectRetention : method === 'PUT' ? putObjectRetention : undefined;
  if (operation === 'legal-hold') return method === 'GET' ? getObjectLegalHold : method === 'PUT' ? putObjectLegalHold : undefined;
  return undefined;
}
