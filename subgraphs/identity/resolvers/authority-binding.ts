import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBindingVersions, snapshotContentOf } from '../data/authority-bindings';
import type { AuthorityBinding } from '../data/authority-bindings';
import { findLatestBinding } from '../data/authority-bindings';

export const AuthorityBindingResolvers = {
  __resolveReference: (reference: { id: string }, context: PlaneContext) =>
    findLatestBinding({ db: context.db, id: reference.id }),
  versions: (binding: AuthorityBinding, _: unknown, context: PlaneContext) =>
    findBindingVersions({ db: context.db, id: binding.id }),
  snapshotContent: (binding: AuthorityBinding) => snapshotContentOf(binding, binding.version),
};

export const AuthorityBindingVersionResolvers = {
  snapshotContent: (binding: AuthorityBinding) => snapshotContentOf(binding, binding.version),
};
