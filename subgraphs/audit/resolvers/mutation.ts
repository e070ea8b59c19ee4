import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { requestExport } from '../exports/export-request';
import { declareNoControl } from '../ncp/declare-no-control';

export const MutationResolvers = {
  requestEvidenceExport: (_: unknown, args: { input: unknown }, context: PlaneContext) => requestExport(context, args.input),
  declareNoControl: (_: unknown, args: { input: unknown }, context: PlaneContext) => declareNoControl(context, args.input),
};
