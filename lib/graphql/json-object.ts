import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';

function asObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GraphQLError('JSONObject must be an object');
  }
  return value as Record<string, unknown>;
}

/** A JSON object passed through as is. */
export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  serialize: asObject,
  parseValue: asObject,
  parseLiteral(ast) {
    if (ast.kind !== Kind.OBJECT) throw new GraphQLError('JSONObject must be an object');
    return asObject(valueFromASTUntyped(ast));
  },
});
