import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import type { MigrationExports, MigrationRequestContext } from '../lib/migration/export-jobs';
import { toEcsError, validationError } from './rest-router';

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

const contextOf = (res: Response): MigrationRequestContext => {
  const locals = res.locals as AuthenticatedLocals;
  return { caller: locals.caller, correlationId: locals.requestId };
};

const idOf = (req: Request): string => {
  const id = String(req.params.id);
  if (!ID.test(id)) throw new EcsError(ErrorCode.NotFound, 'no such migration export');
  return id;
};

/** Runs an async handler; anything thrown leaves through the REST error mapper. */
const handle =
  (work: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    work(req, res).catch(next);
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
    handle(async (req, res) => {
      const parsed = RequestBody.safeParse(req.body);
      if (!parsed.success) throw validationError(parsed.error, 'body');
      const status = await options.exports.request(contextOf(res), { tenantId: parsed.data.tenant_id, scenario: parsed.data.scenario });
      res.status(202).location(`${MIGRATION_EXPORTS_MOUNT}/${status.id}`).json(status);
    }),
  );
  router.get(
    '/:id',
    options.authenticate,
    handle(async (req, res) => {
      res.json(await options.exports.status(contextOf(res), idOf(req)));
    }),
  );
  router.get(
    '/:id/package',
    options.authenticateExpensive,
    handle(async (req, res) => {
      const { status, stream } = await options.exports.openPackage(contextOf(res), idOf(req));
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
  router.use(options.authenticate, (req: Request, res: Response) =>
    sendError(res, new EcsError(ErrorCode.NotFound, `no route for ${req.method} ${req.originalUrl.split('?')[0]!}`)),
  );
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const mapped = toEcsError(error);
    if (!mapped) (res.locals as Partial<AuthenticatedLocals>).log?.error({ err: error }, 'migration export request failed');
    sendError(res, mapped ?? new EcsError(ErrorCode.Internal, 'internal error'));
  });
  return router;
}
