import { pipeline } from 'node:stream/promises';
import type { Router } from 'express';
import type { BundlePlan } from '../../../lib/bundle/plan-bundle';
import { bundleTarGzStream } from '../../../lib/bundle/stream-bundle';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { sendError } from '../../../lib/http/error-body';
import { authorize } from '../../../lib/subgraph/authorize';
import type { PlaneRouteHelpers } from '../../../lib/subgraph/subgraph-app';
import { chainSource } from './chain-source';
import { getExport } from './export-store';

/** Path of the bundle download on the audit plane (under `/audit`); the gateway streams `/v1/exports/{id}/bundle` to it. */
export const BUNDLE_ROUTE = '/exports/:id/bundle';

/**
 * `GET /audit/exports/{id}/bundle`: the bundle of a completed export as `.tar.gz`, streamed
 * from the events by whichever replica is asked (the stored plan holds the signed manifest
 * and every size and digest; see lib/bundle/stream-bundle.ts). If the events no longer
 * match the plan the stream is cut off (the client gets a truncated archive, never a valid
 * one that contradicts the manifest) and the incident is logged.
 */
export function bundleRoutes(router: Router, helpers: PlaneRouteHelpers): void {
  router.get(BUNDLE_ROUTE, (req, res) => {
    const context = helpers.contextOf(res);
    const serve = async (): Promise<void> => {
      const row = await getExport({ db: context.db, id: String(req.params.id) });
      await authorize(context, 'evidence.export', row.tenantId);
      if (row.state !== 'completed' || !row.plan) {
        throw new EcsError(
          ErrorCode.Conflict,
          `export ${row.id} is ${row.state}${row.state === 'failed' ? '' : '; its bundle is not ready yet'}`,
        );
      }
      const plan = JSON.parse(row.plan) as BundlePlan;
      res.status(200);
      res.setHeader('content-type', 'application/gzip');
      res.setHeader('content-disposition', `attachment; filename="${row.id}.tar.gz"`);
      res.setHeader('etag', `"${row.bundleHash ?? ''}"`);
      res.setHeader('x-ecs-bundle-hash', row.bundleHash ?? '');
      res.setHeader('x-ecs-merkle-root', row.merkleRoot ?? '');
      res.setHeader('cache-control', 'private, no-store');
      await pipeline(bundleTarGzStream(plan, chainSource(context.db, plan.scope)), res);
    };
    serve().catch((error: unknown) => {
      if (res.headersSent) {
        context.log.error({ err: error, exportId: req.params.id }, 'bundle stream stopped');
        res.destroy();
        return;
      }
      if (!(error instanceof EcsError)) context.log.error({ err: error }, 'bundle request failed');
      sendError(res, error instanceof EcsError ? error : new EcsError(ErrorCode.Internal, 'internal error'));
    });
  });
}
