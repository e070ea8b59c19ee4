import { findBindingVersions, findLatestBinding, snapshotContentOf } from '../data/authority-bindings';
import type { AuthorityBindingResolverMap, AuthorityBindingVersionResolverMap } from '../generated/resolvers-types';

export const AuthorityBindingResolvers: AuthorityBindingResolverMap = {
  __resolveReference: (reference, context) => findLatestBinding({ db: context.db, id: reference.id }),
  versions: (binding, _, context) => findBindingVersions({ db: context.db, id: binding.id }),
  snapshotContent: (binding) => snapshotContentOf(binding, binding.version),
};

export const AuthorityBindingVersionResolvers: AuthorityBindingVersionResolverMap = {
  snapshotContent: (binding) => snapshotContentOf(binding, binding.version),
};
