import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findBindingVersions } from '../data/authority-bindings';
import type { AuthorityBinding } from '../data/authority-bindings';
import { findLatestBinding } from '../data/authority-bindings';

export const AuthorityBindingResolvers = {
  __resolveReference: (reference: { id: string }, context: PlaneContext) =>
    findLatestBinding({ db: context.db, id: reference.id }),
  versions: (binding: AuthorityBinding, _: unknown, context: PlaneContext) =>
    findBindingVersions({ db: context.db, id: binding.id }),
};
