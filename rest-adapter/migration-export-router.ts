import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
import { describeProblem, textProblem } from '../lib/input/unsafe-text';
import type { TextRule } from '../lib/input/unsafe-text';
import { MIGRATION_EXPORT_ID } from '../lib/migration/export-jobs';
import type { MigrationExports } from '../lib/migration/export-jobs';
import { validationError } from './rest-router';
import { finishMigrationRouter, handleAsync, migrationContextOf } from './migration-routes-common';

export interface MigrationExportRouterOptions {
  authenticate: RequestHandler;
  /** `authenticate`, then one of the principal's expensive-operation slots (package downloads). */
  authenticateExpensive: RequestHandler;
  exports: MigrationExports;
}

/** Mount point: before the `/v1` router, which would answer these paths with 404. */
export const MIGRATION_EXPORTS_MOUNT = '/v1/migrations/exports';

const RequestBody = z
  .object({
    tenant_id: z.string().min(1).max(128),
    scenario: z.string().min(1).max(64),
  })
  .strict();

/** Text the evidence can carry as it is (no control characters, well-formed Unicode). */
const carried = (rule: TextRule) => (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    const problem = textProblem(value, rule);
    if (problem) ctx.addIssue({ code: 'custom', message: describeProblem(problem) });
  });

/** Where the tenant went: its URL on the target deployment. */
const targetUrl = carried('line')(z.string().max(2048)).refine(
  (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
  'must be an http or https URL',
);

const CompleteBody = z.object({ migrated_to: targetUrl }).strict();

const RollbackBody = z.object({ reason: carried('text')(z.string().max(500)).optional() }).strict();

const idOf = (req: Request): string => {
  const id = String(req.params.id);
  if (!MIGRATION_EXPORT_ID.test(id)) throw new EcsError(ErrorCode.NotFound, 'no such migration export');
  return id;
};

/** A JSON body; `optional`: no body at all (or an empty one) is an empty object. */
const jsonBody = (optional: boolean): RequestHandler[] => [
  (req, _res, next) => {
    const kind = req.is('application/json');
    const empty = kind === null || (!req.headers['content-type'] && req.headers['content-length'] === '0');
    if (kind === 'application/json' || (optional && empty)) return next();
    next(new EcsError(ErrorCode.UnsupportedMediaType, 'request body must be application/json'));
  },
  express.json({ limit: '16kb', strict: true }),
];

/**
 * Tenant export packages (docs/migration.md): `POST /v1/migrations/exports` (202 and a
 * status URL), `GET /v1/migrations/exports/{id}`, `GET .../{id}/package`, the `.tar.gz`
 * streamed from the job's file, and the source's cutover, `POST .../{id}/complete` and
 * `POST .../{id}/rollback`. Authorization and evidence are the jobs' (app/migration/).
 */
export function createMigrationExportRouter(options: MigrationExportRouterOptions): Router {
  const router = express.Router();
  router.post(
    '/',
    options.authenticate,
    ...jsonBody(false),
    handleAsync(async (req, res) => {
      const parsed = RequestBody.safeParse(req.body);
      if (!parsed.success) throw validationError(parsed.error, 'body');
      const status = await options.exports.request(migrationContextOf(res), {
        tenantId: parsed.data.tenant_id,
        scenario: parsed.data.scenario,
      });
      res.status(202).location(`${MIGRATION_EXPORTS_MOUNT}/${status.id}`).json(status);
    }),
  );
  router.get(
    '/:id',
    options.authenticate,
    handleAsync(async (req, res) => {
      res.json(await options.exports.status(migrationContextOf(res), idOf(req)));
    }),
  );
  router.get(
    '/:id/package',
    options.authenticateExpensive,
    handleAsync(async (req, res) => {
      const { status, stream, transferred } = await options.exports.openPackage(migrationContextOf(res), idOf(req));
      res.status(200);
      res.setHeader('content-type', 'application/gzip');
      res.setHeader('content-disposition', `attachment; filename="${status.id}.tar.gz"`);
      res.setHeader('content-length', String(status.package_size));
      res.setHeader('x-ecs-package-digest', status.package_digest ?? '');
      res.setHeader('x-ecs-manifest-digest', status.manifest_digest ?? '');
      res.setHeader('cache-control', 'private, no-store');
      let sent = 0;
      stream.on('data', (chunk: Buffer) => {
        sent += chunk.length;
      });
      try {
        await pipeline(stream, res);
      } catch (error) {
        await transferred(sent, false);
        throw error;
      }
      await transferred(sent, sent === status.package_size);
    }),
  );
  router.post(
    '/:id/complete',
    options.authenticate,
    ...jsonBody(false),
    handleAsync(async (req, res) => {
      const id = idOf(req);
      const parsed = CompleteBody.safeParse(req.body);
      if (!parsed.success) throw validationError(parsed.error, 'body');
      res.json(await options.exports.complete(migrationContextOf(res), id, { migratedTo: parsed.data.migrated_to }));
    }),
  );
  router.post(
    '/:id/rollback',
    options.authenticate,
    ...jsonBody(true),
    handleAsync(async (req, res) => {
      const id = idOf(req);
      const parsed = RollbackBody.safeParse(req.body ?? {});
      if (!parsed.success) throw validationError(parsed.error, 'body');
      res.json(await options.exports.rollback(migrationContextOf(res), id, { reason: parsed.data.reason }));
    }),
  );
  return finishMigrationRouter(router, options.authenticate, 'migration export');
}
