import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BundleSource } from '../../../lib/bundle/bundle-source';
import type { BundlePlan } from '../../../lib/bundle/plan-bundle';
import { bundleTarGzStream } from '../../../lib/bundle/stream-bundle';
import { verifyBundlePath } from '../../../lib/bundle/verify-bundle';
import type { ProgressListener, VerifyOptions, VerifyResult } from '../../../lib/bundle/verify-bundle';

/** The offline verifier's verdict on an export's bundle, as the export stores it (JSON) and GraphQL shows it. */
export interface BundleVerdict {
  /** Every check passed. */
  valid: boolean;
  /** Checks run (docs/verify.md). */
  checks: number;
  /** Events the verifier read from the bundle. */
  events: number;
  /** The failed checks, as `name: detail`. */
  failures: string[];
}

export function verdictOf(result: VerifyResult): BundleVerdict {
  return {
    valid: result.ok,
    checks: result.checks.length,
    events: result.events,
    failures: result.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`),
  };
}

/**
 * Writes a planned export's bundle to a temporary file, byte for byte as a download streams
 * it (lib/bundle/stream-bundle.ts), and verifies that file offline as `ecs verify --jwks`
 * does (lib/bundle/verify-bundle.ts) with the service's own published keys: the verdict is
 * on the file an auditor downloads, not on the chain it came from. The file is removed
 * afterwards. A failure to write the bundle (the source's errors: a stop, events that no
 * longer match the plan) is thrown.
 */
export async function verifyExportBundle({
  plan,
  source,
  jwks,
  onProgress,
}: {
  plan: BundlePlan;
  source: BundleSource;
  jwks: NonNullable<VerifyOptions['jwks']>;
  onProgress?: ProgressListener;
}): Promise<BundleVerdict> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecs-export-'));
  try {
    const file = path.join(dir, 'bundle.tar.gz');
    await pipeline(bundleTarGzStream(plan, source), createWriteStream(file));
    return verdictOf(await verifyBundlePath(file, { jwks, ...(onProgress ? { onProgress } : {}) }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
