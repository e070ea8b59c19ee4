import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where `scripts/build-web.js` (run by `npm install`) writes the bundled pages. */
export const WEB_ASSETS_DIR = path.join(__dirname, '..', '..', 'web', 'dist');

/** The folder of one page's bundle (`ide`, `console`), or undefined when it was never built. */
export function builtPageDir(page: 'ide' | 'console'): string | undefined {
  const dir = path.join(WEB_ASSETS_DIR, page);
  return existsSync(path.join(dir, `${page}.js`)) ? dir : undefined;
}
