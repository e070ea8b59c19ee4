import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { EcsError, ErrorCode } from '../lib/errors';
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

const ID = /^mex-[0-9a-f-]{36}$/;

const idOf = (req: Request): string => {
  const id = String(req.params.id);
  if (!ID.test(id)) throw new EcsError(ErrorCode.NotFound, 'no such migration export');
  return id;
};

/**
 * Tenant export packages (docs/migration.md): `POST /v1/migrations/exports` (202 and a
 * status URL), `GET /v1/migrations/exports/{id}`, and `GET .../{id}/package`, the `.tar.gz`
 * streamed from the job's file. Authorization and evidence are the jobs' (app/migration/).
 */
export function createMigrationExportRouter(options: MigrationExportRouterOptions): Router {
  const router = express.Router();
  router.post(
    '/',
    options.authenticate,
    (req, _res, next) => {
      if (req.is('application/json') === 'application/json') return next();
      next(new EcsError(ErrorCode.UnsupportedMediaType, 'request body must be application/json'));
    },
    express.json({ limit: '16kb', strict: true }),
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
      const { status, stream } = await options.exports.openPackage(migrationContextOf(res), idOf(req));
      res.status(200);
      res.setHeader('content-type', 'application/gzip');
      res.setHeader('content-disposition', `attachment; filename="${status.id}.tar.gz"`);
      res.setHeader('content-length', String(status.package_size));
      res.setHeader('x-ecs-package-digest', status.package_digest ?? '');
      res.setHeader('x-ecs-manifest-digest', status.manifest_digest ?? '');
      res.setHeader('cache-control', 'private, no-store');
      await pipeline(stream, res);
    }),
  );
  return finishMigrationRouter(router, options.authenticate, 'migration export');
}
