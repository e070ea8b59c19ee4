import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import type { MigrationRequestContext } from '../lib/migration/export-jobs';
import type { MigrationImports } from '../lib/migration/import-report';
import { toEcsError } from './rest-router';

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

const contextOf = (res: Response): MigrationRequestContext => {
  const locals = res.locals as AuthenticatedLocals;
  return { caller: locals.caller, correlationId: locals.requestId };
};

const handle =
  (work: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    work(req, res).catch(next);
  };

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
    handle(async (req, res) => {
      const context = contextOf(res);
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
    handle(async (req, res) => {
      res.json(await options.imports.report(contextOf(res), String(req.params.id)));
    }),
  );
  router.use(options.authenticate, (req: Request, res: Response) =>
    sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.originalUrl.split('?')[0]!}`)),
  );
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const mapped = toEcsError(error);
    if (!mapped) (res.locals as Partial<AuthenticatedLocals>).log?.error({ err: error }, 'migration import request failed');
    sendError(res, mapped ?? new EcsError(ErrorCode.Internal, 'internal error'));
  });
  return router;
}
