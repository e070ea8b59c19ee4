import type { Fetcher } from '@apollo/utils.fetcher';
import type { Agent } from 'undici';
import { IdentityTokens } from '../lib/auth/identity-token';
import type { Config } from '../lib/config/config';
import { openDatabase } from '../lib/db/database';
import type { Database } from '../lib/db/database';
import { RefusalThrottle } from '../lib/evidence/refusal-throttle';
import { requestFetcher } from '../lib/http/request-fetcher';
import { timedFetcher } from '../lib/http/timed-fetcher';
import { loadSigningKeys } from '../lib/keys/signing-keys';
import type { SigningKeys } from '../lib/keys/signing-keys';
import type { Logger } from '../lib/logger';
import { GovernanceFactsCache, followGovernanceChanges } from '../lib/subgraph/governance-facts-cache';
import { createMtlsAgent } from '../lib/tls/mtls';
import { loadTlsMaterial } from '../lib/tls/tls-material';
import type { TlsMaterial } from '../lib/tls/tls-material';

/** What every process opens once: the database (migrated), TLS material and the mTLS pool. */
export interface SharedServices {
  db: Database;
  tls: TlsMaterial;
  keys: SigningKeys;
  identityTokens: IdentityTokens;
  throttle: RefusalThrottle;
  agent: Agent;
  /** Tenant facts, authority decisions and policies in force the planes of this process remember. */
  governanceFacts: GovernanceFactsCache;
  /** Fetch over mTLS with the subgraph timeout. */
  fetcher: Fetcher;
  close(): Promise<void>;
}

export async function openSharedServices(config: Config, log: Logger): Promise<SharedServices> {
  const tls = await loadTlsMaterial({ files: config.tlsFiles, pkiDir: config.pkiDir });
  const keys = await loadSigningKeys(config.signingKeysFile);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    waitersPerKey: config.evidenceWaitersPerChain,
  });
  try {
    const applied = await db.migrate();
    if (applied.length) log.info({ migrations: applied }, 'applied database migrations');
  } catch (error) {
    await db.close();
    throw error;
  }
  const governanceFacts = new GovernanceFactsCache({ ttlMs: config.governanceFactsTtlMs });
  let stopFollowing: () => Promise<void> = async () => undefined;
  if (config.governanceFactsTtlMs > 0) {
    try {
      stopFollowing = await followGovernanceChanges(db, governanceFacts, log);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  const agent = createMtlsAgent(tls);
  const fetcher = timedFetcher(requestFetcher(agent), config.subgraphTimeoutMs);
  return {
    db,
    tls,
    keys,
    identityTokens: new IdentityTokens(keys.derivedSecret('identity')),
    throttle: new RefusalThrottle(db, {
      windowMs: config.refusalEvidence.windowMs,
      perSource: config.refusalEvidence.perSource,
      maxPerWindow: config.refusalEvidence.perChain,
    }),
    agent,
    governanceFacts,
    fetcher,
    close: async () => {
      await stopFollowing();
      await agent.close();
      await db.close();
    },
  };
}
