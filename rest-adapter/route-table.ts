import type { Response } from 'express';
import { z } from 'zod';
import type { Caller } from '../lib/auth/caller';
import type { Action } from '../lib/auth/permissions';
import { ErrorCode } from '../lib/errors';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/graphql/page-size';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a route handler gets: validated input, the caller, and one GraphQL operation to run. */
export interface RouteCall<Body, Query> {
  body: Body;
  query: Query;
  params: Record<string, string>;
  caller: Caller;
  /** Runs ONE GraphQL operation through the gateway's Apollo server; errors arrive as EcsError. */
  execute<T>(document: string, variables?: Record<string, unknown>): Promise<T>;
  /** For response headers only; the router sends the body. */
  res: Response;
}

/**
 * The governed action of a POST route and the tenant it targets, as the plane that serves it
 * authorizes them. The router checks them again before it replays a stored Idempotency-Key
 * response, so a replay is never answered to a caller a new request would be refused to.
 */
export interface RouteGovernance<Body> {
  action: Action;
  /** The tenant the action targets; absent (or undefined): a platform-wide action. */
  tenant?(call: Pick<RouteCall<Body, unknown>, 'body' | 'params' | 'caller'>): string | undefined;
}

/** One row of the route table: everything the router and the OpenAPI document need. */
export interface RouteDef<Body = unknown, Query = unknown> {
  method: HttpMethod;
  /** Express path below `/v1`, e.g. `/tenants/:id`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Strict zod object of the JSON request body (POST/PATCH only); absent: the route takes no body. */
  body?: z.ZodType<Body>;
  /** Strict zod object of the query parameters; absent: the route takes none. */
  query?: z.ZodType<Query>;
  /** Success status (201, 202, 204, ...). */
  status: number;
  /** OpenAPI description of the success response. */
  description: string;
  /** Name of the response schema in the schema registry (absent for 204). */
  response?: string;
  /** Error statuses the route documents (401/403/429/500 are added to every route). */
  errors: number[];
  deprecated?: boolean;
  /** Required on POST routes (they take an Idempotency-Key); the router will not start without it. */
  governs?: RouteGovernance<Body>;
  /** Returns the success body (ignored for 204). Thin: map names, run one operation. */
  handler(call: RouteCall<Body, Query>): Promise<unknown>;
}

/** Types a route row (infers Body and Query from its zod schemas), then erases it for the table. */
export function defineRoute<Body = undefined, Query = Record<string, never>>(route: RouteDef<Body, Query>): RouteDef {
  return route as unknown as RouteDef;
}

/** `limit`: 1..1000, default 100; anything else is ECS_INVALID_PAGE_SIZE (see the router's mapper). */
export const limitParam = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE);
export const cursorParam = z.string().min(1).optional();
/** Query fields whose validation failure maps to a code other than ECS_BAD_REQUEST. */
export const QUERY_ERROR_CODES: Record<string, ErrorCode> = { limit: ErrorCode.InvalidPageSize };

/** Drops null and undefined values (the skeleton types optional fields as plain strings, never null). */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null && field !== undefined)) as T;
}

/** `{ items, next_cursor }` with `next_cursor` only when more results exist. */
export function page<T>(items: T[], nextCursor: string | null | undefined): { items: T[]; next_cursor?: string } {
  return nextCursor ? { items, next_cursor: nextCursor } : { items };
}
