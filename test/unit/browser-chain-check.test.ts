import { canonicalJson, contentDigest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../lib/evidence/chain-verifier';
import { buildEvent } from '../../lib/evidence/ledger';
import { ChainCheck } from '../../web/console/event-check';
import type { LiveEvent } from '../../web/console/event-check';

/**
 * The auditor's console checks chains in the browser (WebCrypto, the `canonicalize` package);
 * here the same module, in Node's WebCrypto, must find the first break where the server's
 * ChainVerifier finds it.
 */
function buildChain(length: number): JsonObject[] {
  const events: JsonObject[] = [];
  let prevHash: string | undefined;
  for (let sequence = 1; sequence <= length; sequence += 1) {
    const { event } = buildEvent(
      { tenantId: 'acme', eventType: 'workload.admit', actor: 'alice', outcome: 'accepted', correlationId: `corr-${sequence}` },
      {
        id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
        sequence,
        prevHash,
        occurredAt: new Date(Date.UTC(2026, 0, 1)),
      },
    );
    prevHash = event.event_hash;
    events.push(event);
  }
  return events;
}

/** What the subscription delivers: the stored text, and columns as stored (here: from the original event). */
function live(text: string, original: JsonObject): LiveEvent {
  return {
    sequence: original.sequence as number,
    eventType: original.event_type as string,
    outcome: original.outcome as string,
    actor: original.actor as string,
    occurredAt: original.occurred_at as string,
    eventHash: original.event_hash as string,
    prevHash: (original.prev_hash as string | undefined) ?? null,
    refusalReasonCode: null,
    refusalReason: null,
    canonical: text,
  };
}

async function firstBreaks(texts: string[], originals: JsonObject[]): Promise<{ browser?: number; server?: number }> {
  const check = new ChainCheck();
  let browser: number | undefined;
  for (const [index, text] of texts.entries()) {
    const checked = await check.push(live(text, originals[index]!));
    if (checked.problems.length && browser === undefined) browser = checked.event.sequence;
  }
  const verifier = new ChainVerifier();
  for (const text of texts) verifier.push(text);
  return { browser, server: verifier.failure?.sequence };
}

describe("the console's chain check in the browser", () => {
  const chain = buildChain(5);
  const texts = chain.map((event) => canonicalJson(event));

  it('verifies every event of a valid chain', async () => {
    expect(await firstBreaks(texts, chain)).toEqual({ browser: undefined, server: undefined });
  });

  it('finds a changed stored event at its sequence, as the server does', async () => {
    const changed = [...texts];
    changed[2] = changed[2]!.replace('"actor":"alice"', '"actor":"mallory"');
    expect(await firstBreaks(changed, chain)).toEqual({ browser: 3, server: 3 });
  });

  it('finds a re-hashed event by its broken link to the next one', async () => {
    const changed = [...texts];
    const { event_hash: _old, ...unhashed }: JsonObject = { ...chain[1]!, actor: 'mallory' };
    changed[1] = canonicalJson({ ...unhashed, event_hash: contentDigest(unhashed) });
    const found = await firstBreaks(changed, chain);
    // The browser also compares the hash with the stored column, so it sees the rewrite at once.
    expect(found).toEqual({ browser: 2, server: 3 });
  });

  it('finds text that is not in canonical form, and a missing sequence', async () => {
    const spaced = [...texts];
    spaced[3] = spaced[3]!.replace('{', '{ ');
    expect(await firstBreaks(spaced, chain)).toEqual({ browser: 4, server: 4 });
    const gap = texts.filter((_text, index) => index !== 2);
    expect((await firstBreaks(gap, [chain[0]!, chain[1]!, chain[3]!, chain[4]!])).browser).toBe(4);
  });

  it('gives the same verdicts when events are pushed before the digests of earlier ones are done', async () => {
    const long = buildChain(60);
    const changed = long.map((event) => canonicalJson(event));
    changed[7] = changed[7]!.replace('"actor":"alice"', '"actor":"mallory"');
    changed[30] = changed[30]!.replace('{', '{ ');
    const inOrder = new ChainCheck();
    const awaited: string[][] = [];
    for (const [index, text] of changed.entries()) awaited.push((await inOrder.push(live(text, long[index]!))).problems);
    const pipelined = new ChainCheck();
    const all = await Promise.all(changed.map((text, index) => pipelined.push(live(text, long[index]!))));
    expect(all.map((checked) => checked.problems)).toEqual(awaited);
    expect(all.map((checked) => checked.event.sequence)).toEqual(long.map((event) => event.sequence));
    expect(all.flatMap((checked, index) => (checked.problems.length ? [index + 1] : []))).toEqual([8, 31]);
    expect(all[7]!.problems).toEqual(['event_hash does not match the event']);
  });
});
