import { requestExport } from '../exports/export-request';
import type { MutationResolverMap } from '../generated/resolvers-types';
import { declareNoControl } from '../ncp/declare-no-control';

export const MutationResolvers: MutationResolverMap = {
  requestEvidenceExport: (_, args, context) => requestExport(context, args.input),
  declareNoControl: (_, args, context) => declareNoControl(context, args.input),
};
