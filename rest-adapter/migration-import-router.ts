import express from 'express';
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { ErrorCode } from '../lib/errors';
import type { MigrationImports } from '../lib/migration/import-report';
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

const Query = z
  .object({
    source_jwks_url: z
      .string()
      .max(2048)
      .url()
      .refine((value) => /^https?:\/\//i.test(value), 'must be an http or https URL'),
  })
  .strict();

/**
 * Tenant import validation (docs/migration.md): `POST /v1/migrations/imports?source_jwks_url=...`
 * with the package as the body (streamed to a file, never held), answered with the report
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
      res
        .status(report.status === 'validated' ? 201 : 200)
        .location(`${MIGRATION_IMPORTS_MOUNT}/${report.import_id}`)
        .json(report);
    }),
  );
  router.get(
    '/:id',
    options.authenticate,
    handleAsync(async (req, res) => {
      res.json(await options.imports.report(migrationContextOf(res), String(req.params.id)));
    }),
  );
  return finishMigrationRouter(router, options.authenticate, 'migration import');
}
