import { EcsError, ErrorCode } from '../../../lib/errors';
import { findBaseline, findSnapshotsOf, getSnapshot, snapshotContentOf } from '../data/policy-baselines';
import type { PolicyBaselineResolverMap, PolicySnapshotResolverMap } from '../generated/resolvers-types';

export const PolicyBaselineResolvers: PolicyBaselineResolverMap = {
  __resolveReference: (reference, context) => findBaseline({ db: context.db, name: reference.name }),
  /** Written in the same transaction as the baseline (publishBaseline): missing only if the database was changed by hand. */
  current: async (baseline, _, context) => {
    const snapshot = await getSnapshot({ db: context.db, id: baseline.currentSnapshotId });
    if (!snapshot) throw new EcsError(ErrorCode.Internal, `policy baseline ${baseline.name} has no snapshot ${baseline.currentSnapshotId}`);
    return snapshot;
  },
  snapshots: (baseline, _, context) => findSnapshotsOf({ db: context.db, baseline: baseline.name }),
};

export const PolicySnapshotResolvers: PolicySnapshotResolverMap = {
  snapshotContent: (snapshot) => snapshotContentOf(snapshot.baseline, snapshot.text),
};
