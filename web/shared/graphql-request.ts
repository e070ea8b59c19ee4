import { authorization } from './token-store';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POST /graphql with the tab's token; JSON content type, so the CSRF check passes. */
export async function postGraphQL<T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const value = authorization();
  if (value) headers.authorization = value;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  try {
    return JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 200)}` }] };
  }
}

/** The data of a response, or an Error with its first message. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) {
    const first = response.errors?.[0];
    const code = first?.extensions?.code;
    throw new Error(first ? `${typeof code === 'string' ? `${code}: ` : ''}${first.message}` : 'no data');
  }
  return response.data;
}
