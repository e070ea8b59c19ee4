import type { Caller } from '../auth/caller';
import type { Config } from '../config/config';
import type { Database } from '../db/database';
import type { CursorCodec } from '../graphql/signed-cursor';
import type { SigningKeys } from '../keys/signing-keys';
import type { RefusalThrottle } from '../evidence/refusal-throttle';
import type { Logger } from '../logger';
import type { PlaneClient } from './plane-client';
import type { MigrationExports } from '../migration/export-jobs';

/** What every resolver of every plane receives. */
export interface PlaneContext {
  db: Database;
  log: Logger;
  keys: SigningKeys;
  cursors: CursorCodec;
  /** Id of the HTTP request, propagated from the gateway. */
  requestId: string;
  /** Shared by every evidence event of one governed action. */
  correlationId: string;
  /** The verified caller, forwarded by the gateway or another plane. */
  caller: Caller;
  /** Calls to other planes, carrying this request's id. */
  planes: PlaneClient;
  /** Per-request memo for DataLoaders, so `_entities` batches hit the database once. */
  loaders: Map<string, unknown>;
  /** Bounds repeated refusal evidence (absent: every refusal is its own event). */
  refusals?: RefusalThrottle;
  /** The process configuration (absent when a plane is built without one, e.g. in unit tests). */
  config?: Config;
  /** Aborted when the caller goes away before the answer is sent (long reads stop early). */
  signal?: AbortSignal;
  /** Tenant export jobs for migration, when this process runs them (SubgraphDependencies). */
  migrationExports?: MigrationExports;
}

/** Returns the request's loader under `key`, creating it on first use. */
export function loaderFor<T>(context: PlaneContext, key: string, create: () => T): T {
  let loader = context.loaders.get(key) as T | undefined;
  if (!loader) {
    loader = create();
    context.loaders.set(key, loader);
  }
  return loader;
}
