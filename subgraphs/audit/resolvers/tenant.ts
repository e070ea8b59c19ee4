import DataLoader from 'dataloader';
import { pageSize } from '../../../lib/graphql/page-size';
import { canSee } from '../../../lib/subgraph/authorize';
import { loaderFor } from '../../../lib/subgraph/plane-context';
import type { PlaneContext } from '../../../lib/subgraph/plane-context';
import { findLatestEventsOfTenants } from '../data/events';
import type { StoredEvent } from '../../../lib/evidence/stored-event';
import type { TenantResolverMap } from '../generated/resolvers-types';

function latestEventsLoader(context: PlaneContext, last: number): DataLoader<string, StoredEvent[]> {
  return loaderFor(
    context,
    `audit.tenantEvents.${last}`,
    () => new DataLoader((tenantIds: readonly string[]) => findLatestEventsOfTenants({ db: context.db, tenantIds, last })),
  );
}

export const TenantResolvers: TenantResolverMap = {
  __resolveReference: (reference) => reference,
  events: (tenant, args, context) =>
    canSee(context, 'evidence.read', tenant.id) ? latestEventsLoader(context, pageSize(args.last ?? 20, 'last')).load(tenant.id) : [],
};
