import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import { PAGE_SECURITY_HEADERS } from './content-security-policy';
import { pageHtml } from './page-html';
import { builtPageDir } from './web-assets';

export interface BrowserPagesOptions {
  /** GraphiQL at `GET /graphql` for browsers (`GRAPHQL_IDE`; off by default when NODE_ENV=production). */
  ide: boolean;
  /** The auditor's console at `GET /console`. @default true */
  console?: boolean;
}

const IDE_HTML = pageHtml({ title: 'ECS Gateway · GraphQL IDE', rootId: 'ecs-ide', assets: '/assets/ide', name: 'ide' });
const CONSOLE_HTML = pageHtml({
  title: "ECS Gateway · Auditor's console",
  rootId: 'ecs-console',
  assets: '/assets/console',
  name: 'console',
});

/** A browser navigating to the URL (HTML preferred to JSON), not an API client. */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/html']) === 'text/html';
}

function secure(res: Response): void {
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) res.setHeader(name, value);
}

function sendPage(res: Response, html: string, built: boolean): void {
  secure(res);
  res.setHeader('cache-control', 'no-store');
  if (!built) {
    res.status(503).type('text/plain').send('The browser pages are not built: run `npm run build:web` (npm install does it).\n');
    return;
  }
  res.type('html').send(html);
}

function assets(dir: string): RequestHandler {
  return express.static(dir, {
    index: false,
    fallthrough: true,
    redirect: false,
    setHeaders: (res) => {
      secure(res);
      res.setHeader('cache-control', 'no-cache');
    },
  });
}

/**
 * The gateway's browser pages: the GraphQL IDE (a browser's `GET /graphql`, by content
 * negotiation; API clients are not affected) and the auditor's console, with their bundled
 * assets under `/assets/`. The pages hold no data: everything they show comes from the API
 * with the token the user gives them.
 */
export function browserPages(options: BrowserPagesOptions): Router {
  const router = express.Router();
  const ideDir = builtPageDir('ide');
  const consoleDir = builtPageDir('console');
  if (options.ide) {
    router.get('/graphql', (req, res, next) => {
      if (!wantsHtml(req) || req.query.query !== undefined) return next();
      sendPage(res, IDE_HTML, ideDir !== undefined);
    });
    if (ideDir) router.use('/assets/ide', assets(ideDir));
  }
  if (options.console ?? true) {
    router.get('/console', (_req, res) => sendPage(res, CONSOLE_HTML, consoleDir !== undefined));
    if (consoleDir) router.use('/assets/console', assets(consoleDir));
  }
  return router;
}
