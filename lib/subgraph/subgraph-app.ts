import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap';
import express from 'express';
import type { Express } from 'express';
import { parse } from 'graphql';
import type { Plane } from '../config/config';
import type { Database } from '../db/database';
import { formatGraphQLError } from '../errors';
import { requestIdFrom } from '../http/request-id';
import { CursorCodec } from '../graphql/signed-cursor';
import type { SigningKeys } from '../keys/signing-keys';
import type { Logger } from '../logger';
import type { PlaneClient } from './plane-client';
import type { PlaneContext } from './plane-context';

export interface PlaneDefinition {
  plane: Plane;
  /** Absolute path of the plane's `schema.graphql`. */
  schemaPath: string;
  resolvers: GraphQLResolverMap<PlaneContext>;
}

export interface SubgraphDependencies {
  db: Database;
  log: Logger;
  keys: SigningKeys;
  production: boolean;
  /** Builds the client a request uses to call other planes. */
  planeClient(requestId: string): PlaneClient;
}

export interface SubgraphApp {
  plane: Plane;
  apollo: ApolloServer<PlaneContext>;
  /** Express app serving `POST /graphql` and `GET /healthz`; listen with mTLS. */
  app: Express;
}

/** Builds a plane's Apollo subgraph and its HTTP app (it does not listen). */
export async function createSubgraphApp(
  definition: PlaneDefinition,
  deps: SubgraphDependencies,
): Promise<SubgraphApp> {
  const log = deps.log.child({ plane: definition.plane });
  const schema = buildSubgraphSchema({
    typeDefs: parse(readFileSync(definition.schemaPath, 'utf8')),
    // The subgraph builder types resolvers with an unknown context; ours receive PlaneContext.
    resolvers: definition.resolvers as GraphQLResolverMap<unknown>,
  });
  const apollo = new ApolloServer<PlaneContext>({
    schema,
    introspection: !deps.production,
    includeStacktraceInErrorResponses: false,
    // The process runner owns SIGTERM/SIGINT and stops servers in order.
    stopOnTerminationSignals: false,
    // Traces would expose resolver timings to whoever reads the response; none is collected.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginUsageReportingDisabled()],
    formatError: (formatted, error) =>
      formatGraphQLError(formatted, error, (internal) => log.error({ err: internal }, 'resolver failed')),
  });
  await apollo.start();
  const cursors = new CursorCodec(deps.keys.derivedSecret('cursor'));

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', plane: definition.plane });
  });
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = requestIdFrom(req.headers['x-request-id']);
        res.setHeader('x-request-id', requestId);
        log.debug({ requestId }, 'subgraph request');
        return {
          db: deps.db,
          keys: deps.keys,
          cursors,
          log: log.child({ requestId }),
          requestId,
          correlationId: requestIdFrom(req.headers['x-correlation-id'] ?? requestId),
          // TODO(identity propagation): the actor becomes the verified caller once the
          // gateway forwards a signed identity; until then actions are recorded as anonymous.
          actor: 'anonymous',
          planes: deps.planeClient(requestId),
          loaders: new Map(),
        };
      },
    }),
  );
  return { plane: definition.plane, apollo, app };
}
