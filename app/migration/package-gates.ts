import { access } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { DEFAULT_LIMITS } from '../../lib/bundle/bundle';
import { verifyBundlePath } from '../../lib/bundle/verify-bundle';
import { bundleHead } from '../../lib/migration/bundle-head';
import type { BundleHead } from '../../lib/migration/bundle-head';
import { KEPT_ITEMS, NESTED_BUNDLE } from '../../lib/migration/import-facts';
import type { ImportGate } from '../../lib/migration/import-report';
import type { PackageManifest } from '../../lib/migration/package-manifest';
import { verifyPackage } from '../../lib/migration/verify-package';

export interface PackageGates {
  gates: ImportGate[];
  manifest: PackageManifest | undefined;
  head: BundleHead | undefined;
}

const pass = (gate: ImportGate['gate'], reason: string): ImportGate => ({ gate, result: 'pass', reason });
const fail = (gate: ImportGate['gate'], reason: string): ImportGate => ({ gate, result: 'fail', reason });
const joined = (lines: string[]) => lines.slice(0, 10).join('; ') + (lines.length > 10 ? ` (and ${lines.length - 10} more)` : '');

/** The nested evidence bundle, verified as `ecs verify` does, against the source's keys, and its head matching the manifest's range. */
async function evidenceGate(
  bundle: string,
  manifest: PackageManifest,
  jwks: JSONWebKeySet | undefined,
): Promise<{ gate: ImportGate; head?: BundleHead }> {
  if (
    !(await access(bundle).then(
      () => true,
      () => false,
    ))
  )
    return { gate: fail('evidence_bundle', `no ${NESTED_BUNDLE} in the package`) };
  const head = await bundleHead(bundle, DEFAULT_LIMITS).catch(() => undefined);
  if (!jwks) return { gate: fail('evidence_bundle', "not checked: the source's JWKS could not be fetched"), ...(head ? { head } : {}) };
  const verified = await verifyBundlePath(bundle, { jwks });
  const failures = verified.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`);
  const range = manifest.evidence_range;
  if (!head) failures.push('the bundle has no events');
  else {
    if (head.chainId !== range?.chain_id)
      failures.push(`the bundle's chain ${head.chainId} is not the manifest's ${String(range?.chain_id)}`);
    if (head.sequence !== range?.to_sequence || head.events !== range.to_sequence - range.from_sequence + 1)
      failures.push(`the bundle's events (${head.events}, up to ${head.sequence}) are not the manifest's range`);
  }
  if (failures.length > 0) return { gate: fail('evidence_bundle', joined(failures)), ...(head ? { head } : {}) };
  return {
    gate: pass('evidence_bundle', `${verified.events} events of ${head!.chainId} verify (head ${head!.sequence}, ${head!.eventHash})`),
    head: head!,
  };
}

/**
 * The package's own gates: the manifest signature against the source's keys, every item's
 * size and SHA-256 (one streaming pass, keeping the items the later gates read under `work`),
 * and the nested evidence bundle.
 */
export async function packageGates({
  file,
  work,
  jwks,
  jwksProblem,
  jwksUrl,
}: {
  file: string;
  work: string;
  jwks: JSONWebKeySet | undefined;
  jwksProblem: string | undefined;
  jwksUrl: string;
}): Promise<PackageGates> {
  const verified = await verifyPackage(file, {
    // No fallback to the package's own jwks.json: that would prove integrity, not origin.
    jwks: jwks ?? { keys: [] },
    extract: (name) => (KEPT_ITEMS.test(name) ? path.join(work, name) : undefined),
  });
  const signatureFailures = verified.failures.filter((line) => line.startsWith('signature: '));
  const otherFailures = verified.failures.filter((line) => !line.startsWith('signature: '));
  const signature = jwksProblem
    ? fail('signature', `the source's JWKS (${jwksUrl}) could not be fetched: ${jwksProblem}`)
    : signatureFailures.length > 0 || !verified.keyId
      ? fail('signature', signatureFailures.length > 0 ? joined(signatureFailures) : 'not checked: the package could not be read')
      : pass('signature', `manifest.sig verifies with key ${verified.keyId} of ${jwksUrl}`);
  const { manifest } = verified;
  const integrity =
    otherFailures.length > 0
      ? fail('integrity', joined(otherFailures))
      : pass('integrity', `${manifest?.contents.length ?? 0} items, each of the size and SHA-256 the manifest lists; nothing unlisted`);
  if (!manifest)
    return { gates: [signature, integrity, fail('evidence_bundle', 'not checked: no readable manifest')], manifest, head: undefined };
  const evidence = await evidenceGate(path.join(work, NESTED_BUNDLE), manifest, jwks);
  return { gates: [signature, integrity, evidence.gate], manifest, head: evidence.head };
}
