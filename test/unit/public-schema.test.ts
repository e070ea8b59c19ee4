// The public GraphQL schema (what introspection of POST /graphql shows) against the released
// one, and its Subscription against the websocket's. That the public schema computed here is
// what a running gateway answers is shown by test/integration/public-schema.test.ts.
import { readFile } from 'node:fs/promises';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema, execute, getNamedType, isInputObjectType, isInterfaceType, isObjectType, parse, printType, subscribe } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { RELEASED_SCHEMA_FILE, publicSchemaSdl } from '../../gateway/public-schema';
import { buildSubscriptionSchema } from '../../gateway/subscriptions/subscription-schema';
import { resolvers } from '../../subgraphs/audit/resolvers';
import { SUBGRAPH_SCHEMA_FILES } from '../../subgraphs/schema-files';

/** The resolver map `buildSubgraphSchema` takes (the package exports only the function). */
type SubgraphResolverMap = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

/** Every change from `released` to `current` that would break a client, one line each. */
async function breakingChanges(released: string, current: string): Promise<string[]> {
  const changes = await diff(buildSchema(released), buildSchema(current));
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .map((change) => `${change.path ?? '(schema)'}: ${change.message}`);
}

/** The names of `root` and of every type its fields, arguments and input fields lead to. */
function typesReachableFrom(schema: GraphQLSchema, root: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const type = schema.getType(name);
    if (!type || seen.has(name)) return;
    seen.add(name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        visit(getNamedType(field.type).name);
        for (const arg of field.args) visit(getNamedType(arg.type).name);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) visit(getNamedType(field.type).name);
    }
  };
  visit(root);
  return [...seen].sort();
}

/** Each type's SDL (description, fields, arguments, deprecations), by name. */
function printed(schema: GraphQLSchema, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, printType(schema.getType(name)!)]));
}

describe('the public GraphQL schema', () => {
  let current: string;

  beforeAll(async () => {
    current = await publicSchemaSdl();
  });

  it('has no breaking change against schema.released.graphql', async () => {
    const breaking = await breakingChanges(await readFile(RELEASED_SCHEMA_FILE, 'utf8'), current);
    if (breaking.length > 0) {
      throw new Error(
        `${breaking.length} breaking change(s) against schema.released.graphql:\n${breaking.map((line) => `  - ${line}`).join('\n')}\n` +
          'If the break is intended, run `npm run schema:release` and commit schema.released.graphql with the change.',
      );
    }
  });

  it('reports every breaking change, one by one', async () => {
    const broken = current
      .replace('auditEvents(tenantId: ID, ', 'auditEvents(')
      .replace('enum Outcome {\n  accepted\n  refused\n  failed\n}', 'enum Outcome {\n  accepted\n  refused\n}')
      .replace(
        'verifyChain(tenantId: ID!, fromSequence: Int, toSequence: Int): ChainVerification!',
        'verifyChain(tenantId: ID!): Boolean!',
      );
    const breaking = await breakingChanges(current, broken);
    expect(breaking).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Subscription\.auditEvents\.tenantId: .*tenantId.*removed/),
        expect.stringMatching(/^Outcome\.failed: .*removed/),
        expect.stringMatching(/^Query\.verifyChain\.fromSequence: /),
        expect.stringMatching(/^Query\.verifyChain: .*changed type/),
      ]),
    );
    // Adding is not breaking.
    expect(await breakingChanges(current, `${current}\ntype Unused {\n  id: ID!\n}\n`)).toEqual([]);
  });

  it('shows Subscription.auditEvents exactly as the websocket serves it, EvidenceEvent and its fields included', () => {
    const overHttp = buildSchema(current);
    const websocket = buildSubscriptionSchema(() => undefined);
    expect(overHttp.getSubscriptionType()?.name).toBe('Subscription');
    const names = typesReachableFrom(websocket, 'Subscription');
    expect(names).toEqual(expect.arrayContaining(['EvidenceEvent', 'Outcome', 'DateTime', 'JSONObject']));
    expect(typesReachableFrom(overHttp, 'Subscription')).toEqual(names);
    expect(printed(overHttp, names)).toEqual(printed(websocket, names));
  });

  it('is refused by the audit plane, whose schema carries it, pointing to the websocket', async () => {
    const schema = buildSubgraphSchema({
      typeDefs: parse(await readFile(SUBGRAPH_SCHEMA_FILES.audit, 'utf8')),
      resolvers: resolvers as SubgraphResolverMap,
    });
    const document = parse('subscription { auditEvents { id } }');
    // Over HTTP a subscription document is executed like a query; a websocket would subscribe.
    const executed = await execute({ schema, document });
    const subscribed = await subscribe({ schema, document });
    for (const result of [executed, 'errors' in subscribed ? subscribed : { errors: undefined }]) {
      expect(result.errors?.map((error) => [error.originalError?.name, error.message])).toEqual([
        ['EcsError', expect.stringMatching(/served over the websocket at \/graphql/)],
      ]);
    }
  });
});
