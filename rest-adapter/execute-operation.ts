import type { ApolloServer } from '@apollo/server';
import type { GatewayContext } from '../gateway/gateway-context';
import { EcsError, ErrorCode } from '../lib/errors';
import type { ErrorCode as ErrorCodeType } from '../lib/errors';

const knownCodes = new Set<string>(Object.values(ErrorCode));

/**
 * Runs one GraphQL operation through the gateway's Apollo server (so REST and GraphQL
 * share planning, planes and authorisation) and returns its data or the first error as an EcsError.
 */
export async function executeOperation<T>(
  apollo: ApolloServer<GatewayContext>,
  context: GatewayContext,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = await apollo.executeOperation<T>({ query, variables }, { contextValue: context });
  if (response.body.kind !== 'single') throw new EcsError(ErrorCode.Internal, 'unexpected incremental response');
  const { data, errors } = response.body.singleResult;
  const first = errors?.[0];
  if (first) {
    const code = String(first.extensions?.code ?? ErrorCode.Internal);
    const pointer = first.extensions?.evidence_pointer;
    throw new EcsError(knownCodes.has(code) ? (code as ErrorCodeType) : ErrorCode.Internal, first.message, {
      evidencePointer: typeof pointer === 'string' ? pointer : undefined,
    });
  }
  if (data === null || data === undefined) throw new EcsError(ErrorCode.Internal, 'operation returned no data');
  return data;
}
