import type { GraphiQLProps } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import type { ExecutionResult } from 'graphql';
import type { Client } from 'graphql-ws';
import { authorization } from '../shared/token-store';

type Fetcher = GraphiQLProps['fetcher'];
type Params = Parameters<Fetcher>[0];

/**
 * The operation to run: GraphiQL may still name the operation of the text before an edit
 * (its name is updated after a pause); a name the document does not define is dropped.
 */
function operationOf(params: Params): { name: string | undefined; subscription: boolean } {
  try {
    const document = parse(params.query);
    const named = params.operationName ? getOperationAST(document, params.operationName) : null;
    const operation = named ?? getOperationAST(document);
    return { name: named ? (params.operationName ?? undefined) : undefined, subscription: operation?.operation === 'subscription' };
  } catch {
    return { name: params.operationName ?? undefined, subscription: false };
  }
}

/**
 * Queries and mutations over `POST /graphql`, subscriptions over the gateway's websocket; the
 * tab's token is added as `Authorization` unless the headers editor sets one.
 */
export function createIdeFetcher(client: () => Client): Fetcher {
  return (params, options) => {
    const operation = operationOf(params);
    if (operation.subscription) {
      // GraphiQL shows results as JSON: formatted errors (graphql-ws) serve as well as GraphQLError objects.
      return client().iterate({
        query: params.query,
        operationName: operation.name,
        variables: params.variables,
      }) as unknown as AsyncIterable<ExecutionResult>;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const token = authorization();
    if (token) headers.authorization = token;
    for (const [name, value] of Object.entries(options?.headers ?? {})) headers[name.toLowerCase()] = String(value);
    return fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ ...params, operationName: operation.name }) }).then(
      (response) => response.json(),
    );
  };
}
