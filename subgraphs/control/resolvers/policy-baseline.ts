import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBaseline, findSnapshotsOf, getSnapshot } from '../data/policy-baselines';
import type { PolicyBaseline } from '../data/policy-baselines';

export const PolicyBaselineResolvers = {
  __resolveReference: (reference: { name: string }, context: PlaneContext) => findBaseline({ db: context.db, name: reference.name }),
  current: (baseline: PolicyBaseline, _: unknown, context: PlaneContext) => getSnapshot({ db: context.db, id: baseline.currentSnapshotId }),
  snapshots: (baseline: PolicyBaseline, _: unknown, context: PlaneContext) => findSnapshotsOf({ db: context.db, baseline: baseline.name }),
};
