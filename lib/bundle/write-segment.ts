/**
 * Pass two of writing a bundle: chain-segment.json in the golden layout, streamed from the
 * spooled segment entries, with segment_hash and merkle_root. Returns the SHA-256 of the
 * bytes written, which becomes the manifest's chain_segment_ref.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BUNDLE_FILES } from './bundle';
import { HashingWriter } from './hashing-writer';
import type { EventFacts } from './write-events';

const indent = (json: string, spaces: string): string => json.split('\n').map((line) => spaces + line).join('\n');

export async function writeSegment({
  dir,
  entriesFile,
  facts,
  profileId,
}: {
  dir: string;
  entriesFile: string;
  facts: EventFacts;
  profileId: string;
}): Promise<string> {
  const out = new HashingWriter(path.join(dir, BUNDLE_FILES.segment));
  const field = (key: string, value: string | number): string => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},\n`;
  try {
    await out.write('{\n');
    await out.write(field('segment_id', `seg-${facts.chainId}-${facts.fromSequence}-${facts.toSequence}`));
    await out.write(field('tenant_id', facts.tenantId));
    await out.write(field('evidence_profile_id', profileId));
    await out.write(field('from_sequence', facts.fromSequence));
    await out.write(field('to_sequence', facts.toSequence));
    await out.write(field('algorithm', 'sha256'));
    await out.write('  "events": [\n');
    let first = true;
    const lines = createInterface({ input: createReadStream(entriesFile), crlfDelay: Infinity });
    for await (const line of lines) {
      const entry = JSON.stringify(JSON.parse(line) as unknown, null, 2);
      await out.write(`${first ? '' : ',\n'}${indent(entry, '    ')}`);
      first = false;
    }
    await out.write('\n  ],\n');
    // The golden method makes segment_hash and bundle_hash the same value over one segment.
    await out.write(field('segment_hash', facts.bundleHash));
    await out.write(`  "merkle_root": ${JSON.stringify(facts.merkleRoot)}\n}\n`);
    return await out.close();
  } catch (error) {
    out.abort();
    throw error;
  }
}
