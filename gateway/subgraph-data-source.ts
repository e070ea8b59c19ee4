import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { GatewayContext } from './gateway-context';

/**
 * Calls one plane over the process's mTLS connection pool, forwarding the request id
 * so the plane's log lines join the gateway's.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(url: string, fetcher: Fetcher) {
    super({ url, fetcher });
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]): void {
    if (context.requestId) request.http?.headers.set('x-request-id', context.requestId);
  }
}
