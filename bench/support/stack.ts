// The whole stack in this process (five planes and the gateway, `startStack`) on a fresh
// database of one kind, with rate limits raised so a benchmark never trips them; removed
// again on success, failure and Ctrl-C.
import { loadDevIssuer } from '../../lib/auth/dev-issuer';
import type { Role } from '../../lib/auth/token-verifier';
import type { DatabaseKind } from '../../lib/db/database';
import { createLogger } from '../../lib/logger';
import { startStack } from '../../app/stack';
import type { RunningStack } from '../../app/stack';
import { makeTempDir } from '../../testkit/temp-dir';
import { testConfig } from '../../testkit/test-config';
import { createPostgresDatabase } from '../../testkit/test-database';
import { registerCleanup, unregisterCleanup } from './run-main';

export interface BenchStack {
  kind: DatabaseKind;
  stack: RunningStack;
  /** URL of the fresh PostgreSQL database (postgresql only). */
  databaseUrl?: string;
  /** A development issuer's token for `role`: of one tenant, or platform-wide (undefined). */
  token(role: Role, tenantId: string | undefined): Promise<string>;
}

/** Runs `work` against a fresh stack; `env` is added to the test configuration's environment. */
export async function withStack<T>(kind: DatabaseKind, env: Record<string, string>, work: (context: BenchStack) => Promise<T>): Promise<T> {
  const dir = await makeTempDir('ecs-bench-stack-');
  const database = kind === 'postgresql' ? await createPostgresDatabase() : undefined;
  const cleanup = async () => {
    await database?.drop();
    await dir.remove();
  };
  registerCleanup(cleanup);
  const config = testConfig({
    dataDir: dir.path,
    databaseUrl: database?.databaseUrl,
    env: { RATE_LIMIT_PER_MINUTE: '100000000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000000', ...env },
  });
  const stack = await startStack(config, createLogger({ level: 'silent' }));
  try {
    const issuer = await loadDevIssuer(config.devIssuer.keyFile);
    const token = (role: Role, tenantId: string | undefined) =>
      issuer.mint({
        subject: `bench-${role}@${tenantId ?? 'platform'}`,
        roles: [role],
        ...(tenantId ? { tenantId } : {}),
        audience: config.oidc.audience,
        ttlSeconds: 3600,
      });
    return await work({ kind, stack, databaseUrl: database?.databaseUrl, token });
  } finally {
    await stack.stop();
    unregisterCleanup(cleanup);
    await cleanup();
  }
}
