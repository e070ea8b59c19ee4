import { canonicalJson, contentDigest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../lib/evidence/chain-verifier';
import { buildEvent } from '../../lib/evidence/ledger';

/** A valid chain of `length` events, built by the ledger's own `buildEvent`. */
function buildChain(length: number, tenant = 'acme'): JsonObject[] {
  const events: JsonObject[] = [];
  let prevHash: string | undefined;
  for (let sequence = 1; sequence <= length; sequence += 1) {
    const { event } = buildEvent(
      { tenantId: tenant, eventType: 'workload.admit', actor: 'alice', outcome: 'accepted', correlationId: `corr-${sequence}` },
      {
        id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
        sequence,
        prevHash,
        occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)),
      },
    );
    prevHash = event.event_hash;
    events.push(event);
  }
  return events;
}

/** The event with `changes` applied and its event_hash recomputed. */
function rehash(event: JsonObject, changes: JsonObject): JsonObject {
  const { event_hash: _old, ...unhashed } = { ...event, ...changes } as JsonObject;
  return { ...unhashed, event_hash: contentDigest(unhashed) };
}

function verify(events: JsonObject[] | string[]): ChainVerifier {
  const verifier = new ChainVerifier();
  for (const event of events) verifier.push(typeof event === 'string' ? event : canonicalJson(event));
  return verifier;
}

describe('chain verifier', () => {
  const chain = buildChain(6);

  it('accepts a valid chain and reports its head', () => {
    const verifier = verify(chain);
    expect(verifier.failure).toBeUndefined();
    expect(verifier.checked).toBe(6);
    expect(verifier.head).toEqual({ sequence: 6, eventHash: chain[5]!.event_hash });
  });

  it('rejects a changed field at its sequence', () => {
    const copy = chain.map((event) => ({ ...event }));
    copy[2] = { ...copy[2]!, actor: 'mallory' };
    expect(verify(copy).failure).toEqual({ sequence: 3, reason: 'event_hash does not match the event' });
  });

  it('rejects an event re-hashed after a change (the next link breaks)', () => {
    const copy = chain.map((event) => ({ ...event }));
    copy[2] = rehash(copy[2]!, { actor: 'mallory' });
    expect(verify(copy).failure).toEqual({ sequence: 4, reason: 'prev_hash does not match the previous event_hash' });
  });

  it('checklist 49: rejects a gap, a duplicate and reordered events', () => {
    expect(verify([chain[0]!, chain[1]!, chain[3]!]).failure).toEqual({
      sequence: 3,
      reason: 'sequence 3 is missing (next event has 4)',
    });
    expect(verify([chain[0]!, chain[1]!, chain[1]!]).failure?.reason).toMatch(/^sequence 2 repeats/);
    expect(verify([chain[0]!, chain[2]!, chain[1]!]).failure?.sequence).toBe(2);
  });

  it('rejects a chain that does not start at sequence 1 and a first event with prev_hash', () => {
    expect(verify(chain.slice(1)).failure?.reason).toMatch(/starts at sequence 2/);
    expect(verify([rehash(chain[0]!, { prev_hash: 'sha256:abc' })]).failure?.reason).toBe('first event must have no prev_hash');
  });

  it("checklist 50: rejects another tenant's event spliced into the chain", () => {
    const other = buildChain(3, 'globex');
    expect(verify([chain[0]!, chain[1]!, other[2]!]).failure?.sequence).toBe(3);
    // Even re-linked to this chain, the tenant and chain ids give it away.
    const spliced = rehash(other[2]!, { prev_hash: chain[1]!.event_hash! });
    const failure = verify([chain[0]!, chain[1]!, spliced]).failure;
    expect(failure).toEqual({ sequence: 3, reason: 'chain_id differs from the rest of the chain' });
  });

  it('checklist 54: rejects non-canonical text even when the content hashes right', () => {
    const text = JSON.stringify(chain[0], null, 1);
    expect(verify([text]).failure).toEqual({ sequence: 1, reason: 'stored event is not in canonical JSON form' });
  });

  it('rejects garbage without throwing', () => {
    for (const garbage of ['', 'null', '[]', '{"sequence":"1"}', '{'.repeat(10_000), '{"sequence":1}']) {
      const verifier = new ChainVerifier();
      expect(verifier.push(garbage)).toBe(false);
      expect(verifier.failure).toBeDefined();
    }
  });

  it('compares stored columns with the hashed event', () => {
    const verifier = new ChainVerifier();
    expect(verifier.push(canonicalJson(chain[0]!), { eventType: 'workload.admit', sequence: 1 })).toBe(true);
    expect(verifier.push(canonicalJson(chain[1]!), { eventType: 'workload.refuse' })).toBe(false);
    expect(verifier.failure).toEqual({ sequence: 2, reason: 'stored column event_type differs from the hashed event' });
  });

  it('verifies a range anchored on the event before it', () => {
    const verifier = new ChainVerifier();
    expect(verifier.anchor(canonicalJson(chain[2]!))).toBe(true);
    for (const event of chain.slice(3)) expect(verifier.push(canonicalJson(event))).toBe(true);
    expect(verifier.checked).toBe(3);
  });
});
