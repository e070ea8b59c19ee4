import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../lib/errors';
import { SUBSCRIPTIONS_NOT_OVER_HTTP } from '../lib/http/input-boundary';
import type { GatewayContext } from './gateway-context';

/**
 * Refuses a subscription operation once Apollo has resolved it, before anything plans or
 * executes it: 400 `ECS_BAD_REQUEST` pointing to the websocket. The schema over HTTP has a
 * `Subscription` type, so such an operation validates, and @apollo/gateway would plan it and
 * then fail with an internal error. The input boundary already refuses a subscription whose
 * text arrives with the request; this catches the ones sent by reference (a persisted
 * operation's `documentId`, an automatic persisted query's hash), whose text the boundary
 * never sees.
 */
export function httpSubscriptionRefusal(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(SUBSCRIPTIONS_NOT_OVER_HTTP, {
            extensions: { code: ErrorCode.BadRequest, field: 'operationName', http: { status: 400 } },
          });
        },
      };
    },
  };
}
