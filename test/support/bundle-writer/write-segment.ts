/**
 * Pass two of writing a bundle: chain-segment.json in the golden layout, streamed from the
 * spooled segment entries, with segment_hash and merkle_root. Returns the SHA-256 of the
 * bytes written, which becomes the manifest's chain_segment_ref.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BUNDLE_FILES } from '../../../lib/bundle/bundle';
import { HashingWriter } from './hashing-writer';
import { segmentEntryText, segmentHead, segmentTail } from '../../../lib/bundle/segment-text';
import type { EventFacts } from './write-events';

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
  try {
    await out.write(segmentHead({ ...facts, profileId }));
    let first = true;
    const lines = createInterface({ input: createReadStream(entriesFile), crlfDelay: Infinity });
    for await (const line of lines) {
      await out.write(segmentEntryText(line, first));
      first = false;
    }
    await out.write(segmentTail(facts));
    return await out.close();
  } catch (error) {
    out.abort();
    throw error;
  }
}
