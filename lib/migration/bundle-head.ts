import { fileLines } from '../bundle/bundle';
import type { ReadLimits } from '../bundle/bundle';
import { readTarEntries } from '../bundle/tar-reader';
import { TempSpace } from '../bundle/temp-space';

/** The last event of an evidence bundle: where a chain continuing it must start from. */
export interface BundleHead {
  chainId: string;
  sequence: number;
  eventHash: string;
  events: number;
}

/** Reads `events.jsonl` of a bundle `.tar.gz` to its last line (streaming; the bundle is verified apart). */
export async function bundleHead(file: string, limits: ReadLimits): Promise<BundleHead | undefined> {
  const space = new TempSpace('ecs-bundle-head-');
  let head: BundleHead | undefined;
  try {
    for await (const entry of readTarEntries(file, limits, space)) {
      if (entry.name !== 'events.jsonl') {
        for await (const _chunk of entry.chunks());
        continue;
      }
      let events = 0;
      let last: string | undefined;
      for await (const line of fileLines(entry.chunks(), limits.maxLineBytes)) {
        if (line.text === '') continue;
        events += 1;
        last = line.text;
      }
      if (last === undefined) continue;
      const event = JSON.parse(last) as { chain_id?: unknown; sequence?: unknown; event_hash?: unknown };
      head = { chainId: String(event.chain_id), sequence: Number(event.sequence), eventHash: String(event.event_hash), events };
    }
  } finally {
    await space.remove();
  }
  return head;
}
