import type { ApolloServer } from '@apollo/server';
import express, { Router } from 'express';
import type { Request, Response } from 'express';
import type { GatewayContext } from '../gateway/gateway-context';
import type { AuthenticatedLocals } from '../gateway/authenticate';
import { createBindingRoute, getBindingRoute, listBindingsRoute } from './authority-binding-routes';
import { executeOperation } from './execute-operation';
import { createTenantRoute, getTenantRoute, listTenantsRoute } from './tenant-routes';

export interface RestContext {
  execute<T>(req: Request, res: Response, query: string, variables: Record<string, unknown>): Promise<T>;
}

type Handler = (rest: RestContext, req: Request, res: Response) => Promise<void>;

/** The `/v1` routes; each runs one GraphQL operation through the gateway. */
const ROUTES: Array<{ method: 'get' | 'post'; path: string; handler: Handler }> = [
  { method: 'post', path: '/tenants', handler: createTenantRoute },
  { method: 'get', path: '/tenants', handler: listTenantsRoute },
  { method: 'get', path: '/tenants/:id', handler: getTenantRoute },
  { method: 'post', path: '/authority-bindings', handler: createBindingRoute },
  { method: 'get', path: '/authority-bindings', handler: listBindingsRoute },
  { method: 'get', path: '/authority-bindings/:id', handler: getBindingRoute },
];

export function createRestRouter({ apollo }: { apollo: ApolloServer<GatewayContext> }): Router {
  const rest: RestContext = {
    execute: (_req, res, query, variables) => {
      const locals = res.locals as AuthenticatedLocals;
      return executeOperation(apollo, { requestId: locals.requestId, log: locals.log, caller: locals.caller }, query, variables);
    },
  };
  const router = Router();
  router.use(express.json({ limit: '1mb' }));
  for (const route of ROUTES) {
    router[route.method](route.path, (req, res, next) => {
      route.handler(rest, req, res).catch(next);
    });
  }
  return router;
}
