import type { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Caller } from '../auth/caller';
import type { Database } from '../db/database';
import { ERROR_STATUS, EcsError, ErrorCode } from '../errors';
import { MalformedInput, refuseMalformedInput } from '../evidence/input-refusal';
import type { RefusalThrottle } from '../evidence/refusal-throttle';
import { sendError } from './error-body';
import { jsonShapeProblem } from './json-shape';
import type { RequestLocals } from './request-log';
import { documentFacts, findInHeaders, findInJson, findInPath, findInQuery, findInRawBody } from '../input/request-input';
import type { DocumentFacts } from '../input/request-input';
import { escapeForEvidence } from '../input/unsafe-text';

/**
 * The gateway's input boundary. Everything a request brings in (path, query, text headers,
 * JSON bodies, GraphQL documents and variables) is checked once, before any plane or the
 * database sees it: well-formed Unicode, no NUL, no control characters where the field's
 * grammar has none (lib/input/unsafe-text.ts), JSON nested at most 64 levels. A refusal is
 * 400 ECS_BAD_REQUEST naming the field, with a `request.refusal` evidence event.
 */
export interface InputBoundaryOptions {
  db: Database;
  throttle: RefusalThrottle;
  /** Token limit of GraphQL documents (the parse here stops where validation would refuse). */
  maxTokens: number;
}

/** `verify` of express.json: strict UTF-8, no duplicate keys, bounded nesting. */
export function verifyJsonBody(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  const invalid = findInRawBody(body);
  if (invalid) throw new MalformedInput(invalid);
  const problem = jsonShapeProblem(body.toString('utf8'));
  if (problem) {
    if (problem.startsWith('nested')) throw new MalformedInput({ field: 'body', problem: 'too_deep' });
    throw new EcsError(ErrorCode.BadRequest, `request body: ${problem}`);
  }
}

/** Analysed documents by text, so a repeated query is parsed here once. */
class DocumentCache {
  private readonly entries = new Map<string, DocumentFacts>();
  constructor(private readonly size = 1000) {}

  facts(query: string, maxTokens: number): DocumentFacts {
    const known = this.entries.get(query);
    if (known) return known;
    const facts = documentFacts(query, maxTokens);
    if (query.length <= 20_000) {
      if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(query, facts);
    }
    return facts;
  }
}

/**
 * Why a subscription sent over HTTP is refused, and where to go instead. The schema over HTTP
 * shows `Subscription` (so clients' tools see the whole API), but only the websocket runs it.
 */
export const SUBSCRIPTIONS_NOT_OVER_HTTP =
  'subscriptions are served over the websocket at /graphql (graphql-transport-ws) and as Server-Sent Events at /v1/events/stream, not over HTTP POST or GET';

/** A GraphQL request that cannot be run as sent: 400, never a 5xx from deeper down. */
function operationProblem(facts: Extract<DocumentFacts, { kind: 'parsed' }>, operationName: unknown): string | undefined {
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return 'operationName must be a string';
  const { operations } = facts;
  let selected = operations[0];
  if (typeof operationName === 'string' && operationName !== '') {
    selected = operations.find((operation) => operation.name === operationName);
    if (!selected) return `the document has no operation named ${JSON.stringify(escapeForEvidence(operationName))}`;
  } else if (operations.length > 1) {
    return `the document has ${operations.length} operations: name the one to run (operationName)`;
  }
  if (selected?.type === 'subscription') return SUBSCRIPTIONS_NOT_OVER_HTTP;
  return undefined;
}

/** The boundary's middlewares. */
export function inputBoundary(options: InputBoundaryOptions) {
  const documents = new DocumentCache();

  /** Path, query string and text headers of every authenticated request. */
  const requestLine: RequestHandler = (req, _res, next) => {
    const url = req.originalUrl;
    const at = url.indexOf('?');
    const finding =
      findInPath(at === -1 ? url : url.slice(0, at)) ?? findInQuery(at === -1 ? '' : url.slice(at + 1)) ?? findInHeaders(req.headers);
    next(finding ? new MalformedInput(finding) : undefined);
  };

  /** A parsed JSON body (REST). */
  const jsonBody: RequestHandler = (req, _res, next) => {
    const finding = req.body === undefined ? undefined : findInJson(req.body, '');
    next(finding ? new MalformedInput(finding) : undefined);
  };

  /** A GraphQL request (POST body or GET query): values, literals in the document, and its operations. */
  const graphqlRequest: RequestHandler = (req, _res, next) => {
    const request = (req.method === 'GET' ? req.query : req.body) as Record<string, unknown> | undefined;
    if (!request || typeof request !== 'object') return next();
    const finding = findInJson(request, '');
    if (finding) return next(new MalformedInput(finding));
    if (typeof request.query !== 'string') return next();
    const facts = documents.facts(request.query, options.maxTokens);
    if (facts.kind === 'too_long') return next();
    if (facts.literal) return next(new MalformedInput(facts.literal));
    if (facts.kind === 'syntax') return next(new EcsError(ErrorCode.BadRequest, facts.message, { field: 'query' }));
    const problem = operationProblem(facts, request.operationName);
    next(problem ? new EcsError(ErrorCode.BadRequest, problem, { field: 'operationName' }) : undefined);
  };

  /** Turns MalformedInput into the recorded 400 (GraphQL-shaped under /graphql). */
  const refuse: ErrorRequestHandler = (error, req, res, next) => {
    if (!(error instanceof MalformedInput) && !(error instanceof EcsError && req.baseUrl === '/graphql')) return next(error);
    void respond(error, req, res).catch(next);
  };

  async function respond(error: MalformedInput | EcsError, req: Request, res: Response): Promise<void> {
    const locals = res.locals as RequestLocals & { caller?: Caller };
    const refusal =
      error instanceof MalformedInput
        ? await refuseMalformedInput({
            db: options.db,
            throttle: options.throttle,
            caller: locals.caller,
            correlationId: locals.requestId,
            request: `${req.method} ${escapeForEvidence(req.baseUrl + req.path)}`,
            finding: error.finding,
            onUnrecorded: (cause) => locals.log?.error({ err: cause }, 'input refusal evidence not recorded'),
          })
        : error;
    if (res.headersSent) return;
    if (req.baseUrl === '/graphql' || req.originalUrl.startsWith('/graphql')) {
      res
        .status(ERROR_STATUS[refusal.code])
        .json({ errors: [{ message: refusal.message, extensions: refusal.toGraphQLError().extensions }] });
      return;
    }
    sendError(res, refusal);
  }

  return { requestLine, jsonBody, graphqlRequest, refuse };
}
