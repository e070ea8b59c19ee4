// The GraphQL IDE (GET /graphql for browsers) and the auditor's console (GET /console) in a
// real browser: Debian's Chromium driven by playwright-core, against one in-process stack.
// The screenshots in docs/images/ (shown in the README) are rewritten with UPDATE_SCREENSHOTS=1.
import type { Browser, Locator, Page } from 'playwright-core';
import { loadConfig } from '../../lib/config/config';
import { chainIdFor } from '../../lib/evidence/evidence-event';
import { recordEvidence } from '../../lib/evidence/ledger';
import { KEPT_EVENTS, SHOWN_ROWS } from '../../web/console/chain-window';
import { collectPageProblems, ensureWebBuild, launchChromium, replaceEditorText, screenshot } from '../support/browser';
import { CREATE_TENANT, PINNED_IMAGE, startTestStack, tenantInput, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

jest.setTimeout(120_000);

const REMOTE_SOURCE = /https?:|wss?:|\*/;

describe('browser pages in Chromium', () => {
  let env: TestStack;
  let browser: Browser;
  const pages: Page[] = [];
  const problems: string[] = [];
  const tenant = uniqueId('web');

  async function openPage(pathname: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    pages.push(page);
    collectPageProblems(page, problems);
    await page.goto(`${env.url}${pathname}`);
    return page;
  }

  beforeAll(async () => {
    ensureWebBuild();
    env = await startTestStack({ env: { EXPORT_POLL_MS: '200' } });
    browser = await launchChromium();
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(tenant) })).errors).toBeUndefined();
  });
  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all(pages.map((page) => page.close()));
    await browser?.close();
    await env?.stop();
  });

  it('answers a browser at GET /graphql with the IDE under a CSP without remote origins, and API clients as before', async () => {
    const html = await fetch(`${env.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = html.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp.split(';').filter((directive) => REMOTE_SOURCE.test(directive))).toEqual([]);
    const body = await html.text();
    expect(body).not.toMatch(/<script>|<style>|https?:\/\//);

    const api = await fetch(`${env.url}/graphql?query=%7B__typename%7D`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(loadConfig({ NODE_ENV: 'production' }).graphqlIde).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_IDE: 'true' }).graphqlIde).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).graphqlIde).toBe(true);
  });

  it('runs a query in GraphiQL, and a subscription that receives an event the test commits', async () => {
    const page = await openPage('/graphql');
    await page.fill('#ecs-token', env.adminToken);
    await page.click('.ecs-token-bar button');
    // The token stays in the tab: after a reload GraphiQL reads the schema with it from the start.
    const schema = page.waitForResponse((answer) => answer.url().endsWith('/graphql') && answer.request().method() === 'POST');
    await page.reload();
    expect((await schema).status()).toBe(200);
    await page.waitForSelector('.graphiql-query-editor .monaco-editor');
    const response = page.locator('.graphiql-response');

    await replaceEditorText(page, '.graphiql-query-editor', `query { tenant(id: "${tenant}") { id status jurisdiction } }`);
    await page.keyboard.press('ControlOrMeta+Enter');
    await waitForText(response, `"id": "${tenant}"`);

    // GraphiQL read the schema with the token: the editor completes the fields of a subscription.
    await replaceEditorText(page, '.graphiql-query-editor', 'subscription { auditEvents { refusalRea');
    await page.keyboard.press('Control+Space');
    await page.locator('.graphiql-query-editor .suggest-widget', { hasText: 'refusalReasonClass' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await replaceEditorText(
      page,
      '.graphiql-query-editor',
      `subscription Admissions { auditEvents(tenantId: "${tenant}", eventTypes: ["workload.*"]) { sequence eventType outcome actor eventHash } }`,
    );
    await page.click('button[aria-label^="Prettify query"]');
    await page.click('.graphiql-query-editor .monaco-editor .view-lines');
    await page.keyboard.press('ControlOrMeta+Home');
    await page.click('.graphiql-execute-button');
    await waitForSockets(env, 1);
    const created = await admit(env, tenant);
    expect(created.status).toBe(201);
    await waitForText(response, '"eventType": "workload.admit"');
    expect((await screenshot(page, 'graphql-ide.png')).length).toBeGreaterThan(10_000);
    // The token lives in the tab (sessionStorage) only; GraphiQL's own state is in localStorage.
    expect(await storedLocally(page)).not.toContain(env.adminToken);
    await page.close();
  });

  it('shows an admission live in the console with its hash verified in the browser, and marks a tampered event as the break', async () => {
    const page = await openPage('/console');
    const token = await env.token('auditor', tenant);
    await signInAndWatch(page, token, tenant);
    await page.waitForSelector('#chain-table tbody tr[data-sequence="1"].verified');
    // The whole chain so far drawn (the page draws at most once a second while events arrive).
    await waitForText(page.locator('#chain-status'), `✓ ${await chainHead(env, tenant)} events`);
    const admissions = page.locator('#chain-table tbody tr.verified', { hasText: 'workload.admit' });
    const before = await admissions.count();

    expect((await admit(env, tenant)).status).toBe(201);
    await admissions.nth(before).waitFor();
    // Newest first: the new admission is the top row, the chain's head.
    const sequence = Number(await admissions.first().getAttribute('data-sequence'));
    expect(sequence).toBe(1 + before + 1);
    await waitForText(page.locator('#chain-status'), 'every hash and link verified in this browser');

    await page.selectOption('#filter-outcome', 'refused');
    expect(await page.locator('#chain-table tbody tr').count()).toBe(0);
    await page.selectOption('#filter-outcome', '');
    await page.fill('#filter-type', 'workload.*');
    expect(await page.locator('#chain-table tbody tr').count()).toBe(before + 1);
    await page.fill('#filter-type', '');
    expect(await page.locator('#minute-chart svg rect').count()).toBeGreaterThan(0);

    await page.click('#export-start');
    await waitForText(page.locator('#export-status.verdict-good'), 'bundle file verified by the server (ecs verify)');
    expect(await page.locator('#export-status').textContent()).toMatch(/: [1-9]\d* checks passed, [1-9]\d* events, bundle sha256:/);
    expect(await page.locator('#export-download').getAttribute('download')).toMatch(new RegExp(`^${tenant}-.+\\.tar\\.gz$`));
    expect((await screenshot(page, 'auditor-console.png')).length).toBeGreaterThan(10_000);
    expect(await storedLocally(page)).not.toContain(token);

    // Behind the service: one event's stored bytes changed in the database (the append-only
    // trigger disabled for the statement), then the page reloaded.
    await env.stack.services.db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('ALTER TABLE audit_evidence_events DISABLE TRIGGER audit_evidence_events_append_only');
      await tx.$executeRawUnsafe(
        `UPDATE audit_evidence_events SET canonical = replace(canonical, '"outcome":"accepted"', '"outcome":"refused"') WHERE chain_id = $1 AND sequence = $2`,
        chainIdFor(tenant),
        sequence,
      );
      await tx.$executeRawUnsafe('ALTER TABLE audit_evidence_events ENABLE TRIGGER audit_evidence_events_append_only');
    });
    await page.reload();
    await signInAndWatch(page, undefined, tenant);
    await page.waitForSelector(`#chain-table tbody tr[data-sequence="${sequence}"].broken`);
    await waitForText(page.locator('#chain-status'), `Chain broken at sequence ${sequence}`);
    expect(await page.locator('#chain-table tbody tr.broken').count()).toBe(1);
    expect((await screenshot(page, 'auditor-console-broken.png')).length).toBeGreaterThan(10_000);
  });

  it('verifies a long chain from its first event while the table keeps to the newest rows, and shows a new event on top', async () => {
    const longTenant = uniqueId('long');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(longTenant) })).errors).toBeUndefined();
    // 6,000 events straight into the ledger (more than the console keeps), as object reads would write them.
    for (let first = 0; first < 6_000; first += 200) {
      await recordEvidence(
        env.stack.services.db,
        Array.from({ length: 200 }, (_, index) => ({
          tenantId: longTenant,
          eventType: (first + index) % 3 ? 'object.get' : 'workload.admit',
          actor: 'spiffe://ecs.example.eu/sa/reader',
          outcome: 'accepted' as const,
          correlationId: `long-${first + index}`,
          details: { action: 'object.get', bucket: 'reports', object_key: `day-${first + index}.csv` },
        })),
      );
    }
    const head = await chainHead(env, longTenant);
    expect(head).toBeGreaterThan(KEPT_EVENTS);

    const page = await openPage('/console');
    await signInAndWatch(page, await env.token('auditor', longTenant), longTenant);
    await waitForText(page.locator('#chain-status'), `✓ ${head} events, every hash and link verified in this browser`, 60_000);
    const rows = page.locator('#chain-table tbody tr');
    expect(await rows.count()).toBe(SHOWN_ROWS);
    expect(await rows.first().getAttribute('data-sequence')).toBe(String(head));
    expect(await rows.last().getAttribute('data-sequence')).toBe(String(head - SHOWN_ROWS + 1));
    expect(await page.locator('#chain-table tbody tr.broken').count()).toBe(0);
    expect(await page.locator('#table-note').textContent()).toContain(`newest ${SHOWN_ROWS} of ${KEPT_EVENTS} matching`);
    // Filters work on the kept events (the last 5,000 written here): every third is an admission.
    const admissions = Array.from({ length: KEPT_EVENTS }, (_, index) => 6_000 - KEPT_EVENTS + index).filter((n) => n % 3 === 0);
    await page.fill('#filter-type', 'workload.*');
    await page.locator('#table-note', { hasText: `of ${admissions.length} matching` }).waitFor();
    expect(await rows.count()).toBe(SHOWN_ROWS);
    await page.fill('#filter-type', '');

    expect((await admit(env, longTenant)).status).toBe(201);
    await page.locator(`#chain-table tbody tr[data-sequence="${head + 1}"].verified`).waitFor();
    expect(await rows.first().getAttribute('data-sequence')).toBe(String(head + 1));
    expect(await rows.count()).toBe(SHOWN_ROWS);
    await waitForText(page.locator('#chain-status'), `✓ ${head + 1} events`);

    // Another tenant picked while the long chain streams in again: only its chain is shown.
    const shortTenant = uniqueId('short');
    expect((await env.gql(CREATE_TENANT, { input: tenantInput(shortTenant) })).errors).toBeUndefined();
    const shortHead = await chainHead(env, shortTenant);
    await signInAndWatch(page, env.adminToken, longTenant);
    await page.locator('#chain-status', { hasText: '✓' }).waitFor();
    await signInAndWatch(page, undefined, shortTenant);
    await waitForText(page.locator('#chain-status'), `✓ ${shortHead} events`);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await page.locator('#chain-status').textContent()).toBe(`✓ ${shortHead} events, every hash and link verified in this browser`);
    expect(await rows.count()).toBe(shortHead);
    expect(await rows.first().getAttribute('data-sequence')).toBe(String(shortHead));
    await page.close();
  });
});

describe('browser pages with the IDE off', () => {
  let env: TestStack;

  beforeAll(async () => {
    env = await startTestStack({ env: { GRAPHQL_IDE: 'false' } });
  });
  afterAll(() => env?.stop());

  it("gives a browser's GET /graphql no landing page (Apollo's loads from its CDN), with a query or without", async () => {
    for (const pathname of ['/graphql', '/graphql?query=%7B__typename%7D']) {
      const answer = await fetch(`${env.url}${pathname}`, {
        headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', authorization: `Bearer ${env.adminToken}` },
      });
      expect(answer.headers.get('content-type')).not.toMatch(/^text\/html/);
      const body = await answer.text();
      expect(body).not.toMatch(/apollographql|<html|<script/i);
      expect(answer.status).toBeGreaterThanOrEqual(400);
    }
  });
});

/** Everything the page's origin keeps in localStorage, as JSON (evaluated in the page: no DOM types here). */
function storedLocally(page: Page): Promise<string> {
  return page.evaluate<string>('JSON.stringify(localStorage)');
}

async function signInAndWatch(page: Page, token: string | undefined, tenant: string): Promise<void> {
  if (token) {
    await page.fill('#console-token', token);
    await page.click('.sign-in button');
  }
  await page.fill('#console-tenant', tenant);
  await page.click('.tenant-picker button');
}

function admit(env: TestStack, tenant: string): Promise<Response> {
  return fetch(`${env.url}/v1/workloads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenant, envelope_type: 'container', image_ref: PINNED_IMAGE }),
  });
}

/** The sequence of a tenant's chain head. */
async function chainHead(env: TestStack, tenant: string): Promise<number> {
  const [row] = await env.stack.services.db.query<{ sequence: number }>('SELECT sequence FROM audit_chain_heads WHERE chain_id = $1', [
    chainIdFor(tenant),
  ]);
  return Number(row?.sequence);
}

/** Waits until `locator`'s text contains `text`. */
async function waitForText(locator: Locator, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  while (Date.now() < deadline) {
    // Monaco renders spaces as no-break spaces.
    seen = (
      (await locator
        .first()
        .textContent({ timeout: 1000 })
        .catch(() => null)) ?? ''
    ).replace(/\u00a0/g, ' ');
    if (seen.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`"${text}" did not appear; the text is: ${seen.slice(0, 500)}`);
}

/** Waits until the gateway has `count` websocket connections open (the page subscribed). */
async function waitForSockets(env: TestStack, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (env.stack.gateway.subscriptions.size < count) {
    if (Date.now() > deadline) throw new Error(`the page opened no websocket (${env.stack.gateway.subscriptions.size} open)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
