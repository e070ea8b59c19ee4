import path from 'node:path';
import { memoryFile } from '../../lib/bundle/bundle';
import type { Bundle } from '../../lib/bundle/bundle';
import { readBundle } from '../../lib/bundle/read-bundle';
import { writeBundle } from './bundle-writer/write-bundle';
import type { BundleSigner } from '../../lib/bundle/plan-bundle';
import type { WriteBundleInput } from './bundle-writer/write-bundle';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import { syntheticChain } from './synthetic-chain';

/** Every file of a bundle, in memory, to mutate freely. */
export async function bundleFiles(source: string): Promise<Map<string, Buffer>> {
  const bundle = await readBundle(source);
  const files = new Map<string, Buffer>();
  for (const [name, file] of bundle.files) files.set(name, Buffer.from(await file.read()));
  return files;
}

export function memoryBundle(files: ReadonlyMap<string, Buffer>): Bundle {
  return { source: 'memory', kind: 'directory', files: new Map([...files].map(([name, bytes]) => [name, memoryFile(bytes)])) };
}

/** The service's own signing keys, in a key file under `dir`. */
export function testSigner(dir: string, name = 'signing-keys.json'): Promise<BundleSigner> {
  return loadSigningKeys(path.join(dir, name));
}

/** A bundle of a synthetic chain written into `dir`. */
export async function writeTestBundle(
  dir: string,
  {
    count = 12,
    signer,
    profileId = 'ecs-evidence-admissible',
    ncp = false,
  }: {
    count?: number;
    signer?: BundleSigner;
    profileId?: string;
    ncp?: boolean;
  } = {},
): Promise<void> {
  const chain = syntheticChain({ count, ncp });
  const input: WriteBundleInput = {
    events: chain.events(),
    artifacts: chain.artifacts,
    profileId,
    producer: { issuerId: 'provider-test', producerId: 'ecs-gateway' },
    createdAt: new Date('2026-01-02T03:04:05Z'),
    ...(signer ? { signer } : {}),
  };
  await writeBundle(input, dir);
}
