import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLObjectType, GraphQLScalarType, Kind, buildASTSchema, parse, visit as visitAst } from 'graphql';
import type { DefinitionNode, GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { DateTimeScalar } from '../../lib/graphql/date-time';
import { JSONObjectScalar } from '../../lib/graphql/json-object';
import { EvidenceEventResolvers } from '../../subgraphs/audit/resolvers/evidence-event';
import { SUBGRAPH_SCHEMA_FILES } from '../../subgraphs/schema-files';

export const SUBSCRIPTION_SCHEMA_FILE = path.join(__dirname, 'schema.graphql');

/** The audit plane's types the subscription schema starts from; the types they use come along. */
const SHARED_ROOTS = ['EvidenceEvent', 'Outcome'];

/** The audit plane's definitions of the shared types and every type they use, without federation directives. */
function auditDefinitions(): DefinitionNode[] {
  const audit = parse(readFileSync(SUBGRAPH_SCHEMA_FILES.audit, 'utf8'));
  const byName = new Map<string, DefinitionNode>();
  for (const definition of audit.definitions) {
    if ('name' in definition && definition.name) byName.set(definition.name.value, definition);
  }
  const wanted = new Set<string>();
  const visit = (name: string) => {
    const definition = byName.get(name);
    if (!definition || wanted.has(name)) return;
    wanted.add(name);
    // Every named type the definition mentions (field types, argument types).
    visitAst(definition, { NamedType: (node) => visit(node.name.value) });
  };
  SHARED_ROOTS.forEach(visit);
  return [...wanted].map((name) => {
    const definition = byName.get(name)!;
    return 'directives' in definition ? { ...definition, directives: [] } : definition;
  });
}

/**
 * The websocket's executable schema: `Subscription.auditEvents` over the audit plane's
 * `EvidenceEvent` with its resolvers, so a message is an item of the `events` query.
 */
export function buildSubscriptionSchema<TContext>(subscribe: GraphQLFieldResolver<unknown, TContext>): GraphQLSchema {
  const own = parse(readFileSync(SUBSCRIPTION_SCHEMA_FILE, 'utf8'));
  const schema = buildASTSchema({ kind: Kind.DOCUMENT, definitions: [...auditDefinitions(), ...own.definitions] });

  for (const scalar of [DateTimeScalar, JSONObjectScalar]) {
    const type = schema.getType(scalar.name);
    if (!(type instanceof GraphQLScalarType)) throw new Error(`${scalar.name} is missing from the subscription schema`);
    type.serialize = scalar.serialize;
    type.parseValue = scalar.parseValue;
    type.parseLiteral = scalar.parseLiteral;
  }
  const event = schema.getType('EvidenceEvent');
  if (!(event instanceof GraphQLObjectType)) throw new Error('EvidenceEvent is missing from the subscription schema');
  for (const [name, field] of Object.entries(event.getFields())) {
    const resolve = (EvidenceEventResolvers as Record<string, unknown>)[name];
    if (typeof resolve === 'function') field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
  }
  const auditEvents = schema.getSubscriptionType()?.getFields().auditEvents;
  if (!auditEvents) throw new Error('Subscription.auditEvents is missing');
  auditEvents.subscribe = subscribe as GraphQLFieldResolver<unknown, unknown>;
  auditEvents.resolve = (event: unknown) => event;
  const query = schema.getQueryType()?.getFields().subscriptionsOnly;
  if (query) query.resolve = () => true;
  return schema;
}
