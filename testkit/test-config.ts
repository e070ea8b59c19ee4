import { loadConfig } from '../lib/config/config';
import type { Config } from '../lib/config/config';

/** A configuration for an in-process test stack: ephemeral ports, silent logs. */
export function testConfig(overrides: { dataDir: string; databaseUrl?: string; env?: Record<string, string> }): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATA_DIR: overrides.dataDir,
    ...(overrides.databaseUrl ? { DATABASE_URL: overrides.databaseUrl } : {}),
    ...overrides.env,
  });
}
