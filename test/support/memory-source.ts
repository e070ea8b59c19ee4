import type { BundleSource, SourceEvent } from '../../lib/bundle/bundle-source';

/** A source over events and artifacts held in memory (a bundle planned without a database). */
export function memorySource(events: readonly SourceEvent[], artifacts: ReadonlyMap<string, Uint8Array>, batch = 100): BundleSource {
  return {
    async *events() {
      for (let start = 0; start < events.length; start += batch) yield events.slice(start, start + batch);
    },
    artifacts: async (pointers) =>
      new Map(pointers.flatMap((pointer) => (artifacts.has(pointer) ? [[pointer, artifacts.get(pointer)!] as const] : []))),
  };
}
