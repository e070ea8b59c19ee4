import { EcsError, ErrorCode } from '../../../lib/errors';
import { SUBSCRIPTIONS_NOT_OVER_HTTP } from '../../../lib/http/input-boundary';
import type { SubscriptionResolverMap } from '../generated/resolvers-types';

const refuse = (): never => {
  throw new EcsError(ErrorCode.BadRequest, SUBSCRIPTIONS_NOT_OVER_HTTP, { field: 'operationName' });
};

/**
 * `Subscription.auditEvents` is in this plane's schema so that the gateway's schema over HTTP
 * shows it; the gateway's websocket serves it from its own live stream. The plane's input
 * boundary refuses a subscription before it gets here; this refuses, as clearly, one that
 * comes another way (over HTTP a subscription is executed like a query, hence `resolve` too).
 */
export const SubscriptionResolvers: SubscriptionResolverMap = {
  auditEvents: { subscribe: refuse, resolve: refuse },
};
