import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import { WORKLOAD_ID } from '../../../lib/domain/identifiers';
import { isJurisdiction } from '../../../lib/domain/jurisdiction';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize } from '../../../lib/subgraph/authorize';
import { assertService, governAction } from '../../../lib/subgraph/governed-action';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { admitWorkload } from '../admission/admit-workload';
import { changeWorkloadStatus, createWorkload } from '../data/workloads';
import type { Workload } from '../data/workloads';
import type { MutationResolverMap } from '../generated/resolvers-types';
import { workloadLoader } from './workload';

const createWorkloadInput = z.object({
  id: z
    .string()
    .regex(WORKLOAD_ID, 'must be 1-64 letters, digits, dots, colons, underscores or hyphens, starting with a letter or digit')
    .nullish(),
  tenantId: z.string().min(1).max(63),
  envelopeType: z.enum(['container', 'vm']),
  imageRef: z
    .string()
    .max(512)
    .regex(/^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/, 'must be an OCI image reference'),
  policyRef: z.string().max(200).nullish(),
  classification: z.enum(CLASSIFICATIONS).nullish(),
  jurisdiction: z.string().refine(isJurisdiction, 'must be an ISO 3166-1 alpha-2 code, EU or EEA').nullish(),
});

const statusReport = z.object({
  workloadId: z.string().min(1).max(64),
  status: z.enum(['running', 'failed', 'terminated']),
  detail: z.string().max(500).nullish(),
});

async function existingWorkload(context: PlaneContext, id: string): Promise<Workload> {
  const workload = await workloadLoader(context).load(id);
  if (!workload) throw new EcsError(ErrorCode.NotFound, `workload ${id} not found`);
  return workload;
}

export const MutationResolvers: MutationResolverMap = {
  createWorkload: async (_, args, context) => {
    const input = parseInput(createWorkloadInput, args.input);
    await authorize(context, 'workload.deploy', input.tenantId);
    const id = input.id ?? randomUUID();
    // A chosen id already in use is a conflict before anything is decided (the insert
    // below still refuses one that appears meanwhile).
    if (input.id && (await workloadLoader(context).load(input.id))) {
      throw new EcsError(ErrorCode.Conflict, `workload ${input.id} already exists`, { field: 'id' });
    }
    const { classification, jurisdiction, ...admission } = await admitWorkload(context, {
      ...input,
      id,
      classification: input.classification ?? undefined,
      jurisdiction: input.jurisdiction ?? undefined,
    });
    return createWorkload({
      db: context.db,
      data: { ...input, id, policyRef: input.policyRef ?? null, classification, jurisdiction },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      ...admission,
    });
  },

  deleteWorkload: async (_, args, context) => {
    const workload = await existingWorkload(context, args.id);
    await authorize(context, 'workload.terminate', workload.tenantId);
    if (workload.status === 'terminated') return workload;
    const governed = { action: 'workload.terminate', eventType: 'workload.terminate' };
    // Terminating stays possible for a suspended tenant: it reduces what runs.
    const { authoritySnapshotId } = await governAction(context, { ...governed, tenantId: workload.tenantId, requireActive: false });
    return changeWorkloadStatus({
      db: context.db,
      workload,
      status: 'terminated',
      ...governed,
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      authoritySnapshotId,
    });
  },

  reportWorkloadStatus: async (_, args, context) => {
    await assertService(context, 'workload.report');
    const report = parseInput(statusReport, args.report);
    const workload = await existingWorkload(context, report.workloadId);
    return changeWorkloadStatus({
      db: context.db,
      workload,
      status: report.status,
      eventType: 'workload.status.report',
      action: 'workload.report',
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
      detail: report.detail ?? undefined,
    });
  },
};
