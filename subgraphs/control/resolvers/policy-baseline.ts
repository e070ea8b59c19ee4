import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBaseline, findSnapshotsOf, getSnapshot, snapshotContentOf } from '../data/policy-baselines';
import type { PolicyBaseline, PolicySnapshot } from '../data/policy-baselines';

export const PolicyBaselineResolvers = {
  __resolveReference: (reference: { name: string }, context: PlaneContext) => findBaseline({ db: context.db, name: reference.name }),
  current: (baseline: PolicyBaseline, _: unknown, context: PlaneContext) => getSnapshot({ db: context.db, id: baseline.currentSnapshotId }),
  snapshots: (baseline: PolicyBaseline, _: unknown, context: PlaneContext) => findSnapshotsOf({ db: context.db, baseline: baseline.name }),
};

export const PolicySnapshotResolvers = {
  snapshotContent: (snapshot: PolicySnapshot) => snapshotContentOf(snapshot.baseline, snapshot.text),
};
