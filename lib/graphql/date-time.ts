import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { parseTimestamp } from '../domain/timestamp';

/** RFC 3339 timestamps in UTC with milliseconds, as in the evidence envelope. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'RFC 3339 date-time in UTC, e.g. 2026-01-31T12:00:00.000Z',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    return parseDateTime(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

/** Input values: RFC 3339 text naming a real calendar date and time (lib/domain/timestamp.ts). */
function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string') throw new GraphQLError('DateTime must be an RFC 3339 date-time string');
  const date = parseTimestamp(value);
  if (!date) throw new GraphQLError('DateTime must be an RFC 3339 date-time of a real calendar date and time, e.g. 2026-01-31T12:00:00Z');
  return date;
}
