import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import { costLimitPlugin } from './cost-limit';
import { introspectionShapeRule } from './introspection-shape';
import type { GatewayContext } from './gateway-context';
import type { PrincipalConnections } from './subscriptions/principal-connections';
import type { GraphqlLimitsConfig } from '../lib/config/config';

/** Abuse limits of the public GraphQL endpoint, as configured (`GRAPHQL_MAX_*`, `EXPENSIVE_OPERATIONS_PER_PRINCIPAL`, `GRAPHQL_INTROSPECTION`). */
export type QueryLimits = GraphqlLimitsConfig;

export const DEFAULT_QUERY_LIMITS: Omit<QueryLimits, 'introspection'> = {
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1000,
  // graphql-armor's default is 5,000, but the estimate multiplies by the page size: one page
  // of 1,000 events with the whole envelope (the largest page the API offers) is about 50,000.
  maxCost: 50_000,
  expensivePerPrincipal: 2,
};

/**
 * The gateway's protections. From `@escape.tech/graphql-armor`: depth, aliases, directives
 * and tokens are refused before execution (validation errors, so the error body says
 * `ECS_BAD_REQUEST`), and "Did you mean ...?" suggestions are removed from messages, so the
 * schema cannot be read off misspellings when introspection is off. The cost limit is ours
 * (cost-limit.ts: armor's estimate cannot weigh a field or see a page size given as a
 * variable), refused before execution too, and it bounds each principal's expensive
 * operations in flight (`expensive`). Messages name the limit that was hit (a client must be
 * able to fix its query; the limits are no secret).
 */
export function queryLimitProtections(
  limits: QueryLimits,
  expensive: PrincipalConnections,
): { plugins: ApolloServerPlugin<GatewayContext>[]; validationRules: ValidationRule[] } {
  const armor = new ApolloArmor({
    // `__schema` is bounded by its shape instead (introspection-shape.ts): the standard
    // introspection query is deeper than any sensible depth limit, and harmless.
    maxDepth: { n: limits.maxDepth, flattenFragments: true, exposeLimits: true, ignoreIntrospection: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    maxTokens: { n: limits.maxTokens, exposeLimits: true },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  });
  const { plugins, validationRules } = armor.protect();
  return {
    plugins: [...plugins, costLimitPlugin({ maxCost: limits.maxCost, expensive })],
    validationRules: [...validationRules, introspectionShapeRule],
  };
}
