import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ValidationRule } from 'graphql';

/** Abuse limits of the public GraphQL endpoint (`GRAPHQL_*` settings). */
export interface QueryLimits {
  /** Deepest selection nesting, fragments flattened. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexer tokens of one document; checked before it is parsed any further. */
  maxTokens: number;
  /** graphql-armor's cost estimate (objects 2, scalars 1, multiplied by depth). */
  maxCost: number;
  /** Schema introspection; off by default when NODE_ENV=production. */
  introspection: boolean;
}

export const DEFAULT_QUERY_LIMITS: Omit<QueryLimits, 'introspection'> = {
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1000,
  // graphql-armor's default is 5,000, but its estimate multiplies by a literal `first`/`last`:
  // one page of 1,000 events with the whole envelope (the largest page the API offers) is
  // about 50,000.
  maxCost: 50_000,
};

/**
 * The gateway's protections, from `@escape.tech/graphql-armor`: depth, cost, aliases,
 * directives and tokens are refused before execution (validation errors, so the error body
 * says `ECS_BAD_REQUEST`), and "Did you mean ...?" suggestions are removed from messages,
 * so the schema cannot be read off misspellings when introspection is off. Messages name
 * the limit that was hit (a client must be able to fix its query; the limits are no secret).
 */
export function queryLimitProtections(limits: QueryLimits): { plugins: ApolloServerPlugin[]; validationRules: ValidationRule[] } {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, flattenFragments: true, exposeLimits: true, ignoreIntrospection: false },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    maxTokens: { n: limits.maxTokens, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, exposeLimits: true, flattenFragments: true, ignoreIntrospection: false },
    blockFieldSuggestion: { enabled: true },
  });
  const { plugins, validationRules } = armor.protect();
  return { plugins, validationRules };
}
