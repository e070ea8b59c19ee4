import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { RequestHandler } from 'express';
import { GraphQLError, Kind } from 'graphql';
import type { FragmentDefinitionNode } from 'graphql';
import { EcsError, ErrorCode } from '../lib/errors';
import { sendError } from '../lib/http/error-body';
import type { AuthenticatedLocals } from './authenticate';
import type { GatewayContext } from './gateway-context';
import { EXPENSIVE_COST, operationCost } from './query-cost';
import type { PrincipalConnections } from './subscriptions/principal-connections';

/** Seconds a client refused for too many expensive operations is told to wait. */
export const EXPENSIVE_RETRY_AFTER_S = 1;

const tooMany = (expensive: PrincipalConnections): string =>
  `too many expensive operations in flight (at most ${expensive.limit} per principal); retry after the time in Retry-After`;

export interface CostLimitOptions {
  maxCost: number;
  /** Expensive operations in flight per principal (shared with evidence bundle downloads). */
  expensive: PrincipalConnections;
}

/**
 * Applies the cost estimate of query-cost.ts to each operation once Apollo has resolved it,
 * before anything executes (the estimate needs the variables, which validation does not
 * see): over `maxCost` is 400 `ECS_BAD_REQUEST` naming the limit. An expensive query
 * (cost `EXPENSIVE_COST` or more) then takes one of its principal's slots until its response
 * is sent; with none free it is 429 `ECS_RATE_LIMITED` with `Retry-After`, at once: a queue
 * would let one principal hold the process's chain reads and database connections for as
 * long as it keeps sending. REST routes run their operations through the same server, so the
 * same rules apply to them.
 */
export function costLimitPlugin(options: CostLimitOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let release: (() => void) | undefined;
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const fragments = Object.fromEntries(
            document.definitions
              .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
              .map((fragment) => [fragment.name.value, fragment]),
          );
          const cost = Math.round(operationCost({ schema, operation, fragments, variables: request.variables }));
          if (cost > options.maxCost) {
            throw new GraphQLError(`Query Cost limit of ${options.maxCost} exceeded, found ${cost}.`, {
              extensions: { code: ErrorCode.BadRequest, http: { status: 400 } },
            });
          }
          // Mutations run one field at a time and the one expensive mutation, an export
          // request, only queues work: its limit is the governed one of exports in flight
          // (EXPORTS_PER_PRINCIPAL, refused with evidence), not this one.
          if (operation.operation !== 'query' || cost < EXPENSIVE_COST || !contextValue.caller) return;
          release = options.expensive.acquire(contextValue.caller);
          if (!release) {
            throw new GraphQLError(tooMany(options.expensive), {
              extensions: {
                code: ErrorCode.RateLimited,
                http: { status: 429, headers: new HeaderMap([['retry-after', String(EXPENSIVE_RETRY_AFTER_S)]]) },
              },
            });
          }
        },
        async willSendResponse() {
          release?.();
        },
      };
    },
  };
}

/**
 * The same slots for routes that are expensive as a whole (evidence bundle downloads, which
 * stream a chain range): taken after authentication, given back when the response closes.
 */
export function expensiveRequest(expensive: PrincipalConnections): RequestHandler {
  return (_req, res, next) => {
    const { caller } = res.locals as Partial<AuthenticatedLocals>;
    if (!caller) return next();
    const release = expensive.acquire(caller);
    if (!release) {
      res.setHeader('retry-after', String(EXPENSIVE_RETRY_AFTER_S));
      sendError(res, new EcsError(ErrorCode.RateLimited, tooMany(expensive)));
      return;
    }
    res.once('close', release);
    next();
  };
}
