import { GraphQLError, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { ErrorCode } from '../../lib/errors';
import { documentFacts, findInJson } from '../../lib/input/request-input';
import type { InputFinding } from '../../lib/input/request-input';
import type { SocketContext } from './connect';

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.BadRequest } });

/** Most tokens of a subscribe document. */
const MAX_TOKENS = 2000;

/** A value of the subscribe message (document literals included) that the service refuses to carry. */
export function findSubscribeInputProblem(payload: SubscribePayload): InputFinding | undefined {
  const finding = findInJson(payload, '');
  if (finding || typeof payload.query !== 'string') return finding;
  const facts = documentFacts(payload.query, MAX_TOKENS);
  return facts.kind === 'too_long' ? undefined : facts.literal;
}

/**
 * subscribe: subscription operations only, at most `perConnection` at a time on a socket,
 * a bounded document, validation errors without "did you mean" hints. Returns the
 * execution arguments, or the errors to send.
 */
export function prepareSubscription(ctx: SocketContext, payload: SubscribePayload, schema: GraphQLSchema, perConnection: number) {
  const connection = ctx.extra.connection;
  if (!connection) return [new GraphQLError('not authenticated', { extensions: { code: ErrorCode.Unauthenticated } })];
  if (Object.keys(ctx.subscriptions).length > perConnection) {
    return [new GraphQLError(`at most ${perConnection} subscriptions per connection`, { extensions: { code: ErrorCode.RateLimited } })];
  }
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: MAX_TOKENS });
  } catch (error) {
    return [badRequest(error instanceof GraphQLError ? error.message : 'the document does not parse')];
  }
  const errors = validate(schema, document, specifiedRules);
  if (errors.length) return errors.map((error) => badRequest(error.message.replace(/ Did you mean .*$/s, '')));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) return [badRequest('name the operation to run (operationName)')];
  if (operation.operation !== 'subscription') {
    return [badRequest('this websocket serves subscriptions (auditEvents); send queries and mutations to POST /graphql')];
  }
  return {
    schema,
    document,
    operationName: payload.operationName,
    variableValues: payload.variables ?? undefined,
    contextValue: { connection },
  };
}
