import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { IDENTITY_HEADER } from '../lib/auth/identity-token';
import type { IdentityTokens } from '../lib/auth/identity-token';
import type { Plane } from '../lib/config/config';
import { EcsError, ErrorCode } from '../lib/errors';
import { secondsSince, subgraphFetchDuration, subgraphFetchErrors } from '../lib/metrics/service-metrics';
import type { GatewayContext } from './gateway-context';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * A plane answers HTTP 400 when it refuses the request before running it (a variable its
 * scalars refuse, such as a DateTime of 30 February). That answer is the caller's error, in
 * the project's vocabulary: passed on with its code and message instead of masked as internal.
 */
function planeRefusal(response: unknown): GraphQLError | undefined {
  const { status, body } = (response ?? {}) as { status?: unknown; body?: unknown };
  if (status !== 400) return undefined;
  const first = (body as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | undefined)?.errors?.[0];
  const code = first?.extensions?.code;
  if (typeof code !== 'string' || !KNOWN_CODES.has(code) || typeof first?.message !== 'string') return undefined;
  return new EcsError(code as ErrorCode, first.message).toGraphQLError();
}

/**
 * Calls one plane over the process's mTLS connection pool, forwarding the request id
 * so the plane's log lines join the gateway's.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    fetcher: Fetcher,
    private readonly plane: Plane,
    private readonly identityTokens: IdentityTokens,
  ) {
    super({ url, fetcher });
  }

  /** A plane that cannot be reached is reported by name, without transport details. */
  override async process(
    options: Parameters<RemoteGraphQLDataSource<GatewayContext>['process']>[0],
  ): ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']> {
    const started = performance.now();
    try {
      const response = await super.process(options);
      this.record(started, response.errors?.length ? 'graphql_errors' : 'ok');
      return response;
    } catch (error) {
      const refused = error instanceof GraphQLError && error.extensions?.response;
      this.record(started, refused ? 'refused' : 'unreachable');
      if (refused) throw planeRefusal(error.extensions.response) ?? error;
      const context = options.context as Partial<GatewayContext>;
      context.log?.warn({ err: error, plane: this.plane }, 'plane unreachable');
      throw new EcsError(ErrorCode.DependencyUnavailable, `the ${this.plane} plane is not reachable`).toGraphQLError();
    }
  }

  private record(started: number, outcome: 'ok' | 'graphql_errors' | 'refused' | 'unreachable'): void {
    const labels = { subgraph: this.plane, outcome };
    subgraphFetchDuration.observe(labels, secondsSince(started));
    if (outcome !== 'ok') subgraphFetchErrors.inc(labels);
  }

  override async willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]): Promise<void> {
    const headers = request.http?.headers;
    if (!headers) return;
    if (context.requestId) headers.set('x-request-id', context.requestId);
    // No caller, no identity: the plane then refuses the call.
    if (context.caller) headers.set(IDENTITY_HEADER, await this.identityTokens.sign(context.caller, this.plane));
  }
}
