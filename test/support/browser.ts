import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { builtPageDir } from '../../gateway/browser-pages/web-assets';

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM_PATH names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a machine without the internet: no sandbox (containers), no background traffic. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium; fails with what to install when it is missing (the browser tests are never skipped). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** The bundled pages, built now when `npm install` has not (e.g. web/ changed since). */
export function ensureWebBuild(): void {
  if (builtPageDir('ide') && builtPageDir('console')) return;
  const result = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-web.js')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/build-web.js failed:\n${result.stdout}${result.stderr}`);
}

/** Collects into `problems` what the page reports that a test must not ignore: script errors and CSP violations. */
export function collectPageProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) problems.push(`console: ${text.slice(0, 300)}`);
  });
}

/** Replaces the text of the Monaco editor inside `selector` (GraphiQL's query editor). */
export async function replaceEditorText(page: Page, selector: string, text: string): Promise<void> {
  await page.click(`${selector} .monaco-editor .view-lines`);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Where screenshots of the pages are kept for the README. */
export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'docs', 'images');

/**
 * A full-page screenshot, always taken; written to docs/images/<name> only when
 * UPDATE_SCREENSHOTS=1, so ordinary test runs leave the committed images alone.
 */
export async function screenshot(page: Page, name: string): Promise<Buffer> {
  const image = await page.screenshot({ fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') await writeFile(path.join(SCREENSHOT_DIR, name), image);
  return image;
}
