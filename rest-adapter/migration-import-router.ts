import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import type { ImportReport, MigrationImports } from '../lib/migration/import-report';
import { finishMigrationRouter, handleAsync, migrationContextOf } from './migration-routes-common';

export interface MigrationImportRouterOptions {
  authenticate: RequestHandler;
  /** `authenticate`, then one of the principal's expensive-operation slots (an upload reads a whole package twice). */
  authenticateExpensive: RequestHandler;
  imports: MigrationImports;
}

/** Mount point: before the `/v1` router, which would answer these paths with 404. */
export const MIGRATION_IMPORTS_MOUNT = '/v1/migrations/imports';

/** Media types a package may be uploaded as. */
const PACKAGE_TYPES = ['application/gzip', 'application/x-gzip', 'application/octet-stream'];

const httpUrl = z
  .string()
  .max(2048)
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'must be an http or https URL');

const Query = z.object({ source_jwks_url: httpUrl }).strict();

/** A pull: the package's URL on the source, a bearer token for it (never kept), the source's keys. */
const PullBody = z
  .object({
    source_url: httpUrl,
    source_token: z.string().min(1).max(8192).optional(),
    source_jwks_url: httpUrl,
  })
  .strict();

const RollbackBody = z.object({ reason: z.string().max(500).optional() }).strict();

/** 201 and the report for a validated import, 200 for a refused one, with its location. */
function answerReport(res: Response, report: ImportReport): void {
  res
    .status(report.status === 'refused' ? 200 : 201)
    .location(`${MIGRATION_IMPORTS_MOUNT}/${report.import_id}`)
    .json(report);
}

/** A pull request's JSON body is a few URLs and a token. */
const MAX_PULL_BODY_BYTES = 16 * 1024;

/** The JSON body of a pull, or undefined when it is not JSON of at most MAX_PULL_BODY_BYTES. */
async function pullBodyOf(req: Request): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PULL_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Tenant import validation (docs/migration.md): `POST /v1/migrations/imports?source_jwks_url=...`
 * with the package as the body (streamed to a file, never held), or a JSON body naming the
 * package's URL on the source (pulled with a bearer token), answered with the report
 * (201 validated, 200 refused), and `GET /v1/migrations/imports/{id}`. Authorization, the gates
 * and evidence are the service's (app/migration/); bad requests are refused with evidence
 * before the body is read.
 */
export function createMigrationImportRouter(options: MigrationImportRouterOptions): Router {
  const router = express.Router();
  router.post(
    '/',
    options.authenticateExpensive,
    handleAsync(async (req, res) => {
      const context = migrationContextOf(res);
      await options.imports.authorize(context);
      if (req.is('application/json')) {
        const pull = PullBody.safeParse(await pullBodyOf(req));
        if (!pull.success)
          throw await options.imports.refuseRequest(context, {
            code: ErrorCode.ValidationFailed,
            reasonCode: 'pull_request_invalid',
            reason: `a pull is {"source_url", "source_token"?, "source_jwks_url"} (at most ${MAX_PULL_BODY_BYTES} bytes): ${
              pull.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)[0] ?? 'not JSON'
            }`,
          });
        const report = await options.imports.pull(context, {
          sourceUrl: pull.data.source_url,
          sourceToken: pull.data.source_token,
          sourceJwksUrl: pull.data.source_jwks_url,
        });
        answerReport(res, report);
        return;
      }
      const type = req.is(PACKAGE_TYPES);
      if (!type)
        throw await options.imports.refuseRequest(context, {
          code: ErrorCode.UnsupportedMediaType,
          reasonCode: 'package_media_type',
          reason: `the body must be the package (${PACKAGE_TYPES.join(', ')})`,
        });
      const query = Query.safeParse(req.query);
      if (!query.success)
        throw await options.imports.refuseRequest(context, {
          code: ErrorCode.ValidationFailed,
          reasonCode: 'source_jwks_url_invalid',
          reason: `source_jwks_url: ${query.error.issues[0]?.message ?? 'required'} (the source deployment's /.well-known/jwks.json)`,
        });
      const length = req.headers['content-length'];
      const report = await options.imports.validate(context, {
        body: req,
        declaredLength: length === undefined ? undefined : Number(length),
        sourceJwksUrl: query.data.source_jwks_url,
      });
      answerReport(res, report);
    }),
  );
  router.get(
    '/:id',
    options.authenticate,
    handleAsync(async (req, res) => {
      res.json(await options.imports.report(migrationContextOf(res), String(req.params.id)));
    }),
  );
  router.post(
    '/:id/activate',
    options.authenticate,
    handleAsync(async (req, res) => {
      res.json(await options.imports.activate(migrationContextOf(res), String(req.params.id)));
    }),
  );
  router.post(
    '/:id/rollback',
    options.authenticate,
    express.json({ limit: '16kb' }),
    handleAsync(async (req, res) => {
      const body = RollbackBody.safeParse(req.body ?? {});
      if (!body.success)
        throw new EcsError(ErrorCode.ValidationFailed, `a rollback body is {"reason"?: string of at most 500 characters}`, {
          field: body.error.issues[0]?.path.join('.') || 'body',
        });
      res.json(await options.imports.rollback(migrationContextOf(res), String(req.params.id), body.data.reason));
    }),
  );
  return finishMigrationRouter(router, options.authenticate, 'migration import');
}
