import { canonicalJson, contentDigest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../lib/evidence/chain-verifier';

/** Checklist 54: canonicalisation is RFC 8785 (JCS), deterministic, and ambiguous stored text is refused. */
describe('canonical JSON under hostile input', () => {
  const first: JsonObject = {
    id: '00000000-0000-4000-8000-000000000001',
    event_type: 'workload.admit',
    occurred_at: '2026-01-01T00:00:01.000Z',
    tenant_id: 'acme',
    actor: 'alice',
    outcome: 'accepted',
    sequence: 1,
    evidence_pointer: `eosc://evidence/sha256:${'0'.repeat(64)}`,
    chain_id: 'ecs:tenant:acme',
  };
  const event = { ...first, event_hash: contentDigest(first) };
  const push = (text: string) => {
    const verifier = new ChainVerifier();
    verifier.push(text);
    return verifier.failure;
  };

  it('checklist 54: key order, \\u escapes, 1e2 and -0 give one canonical form and one hash', () => {
    const a = JSON.parse('{"b":1e2,"a":"\\u0041","c":-0,"d":[1.50,{"z":true,"y":null}]}') as JsonObject;
    const b = JSON.parse('{"d":[1.5,{"y":null,"z":true}],"c":0,"a":"A","b":100}') as JsonObject;
    expect(canonicalJson(a)).toBe('{"a":"A","b":100,"c":0,"d":[1.5,{"y":null,"z":true}]}');
    expect(contentDigest(a)).toBe(contentDigest(b));
  });

  it('checklist 54: NFC and NFD spellings are different content (no silent normalisation), deterministically', () => {
    const nfc = { name: 'caf\u00e9' };
    const nfd = { name: 'cafe\u0301' };
    expect(contentDigest(nfc)).not.toBe(contentDigest(nfd));
    expect(contentDigest(nfc)).toBe(contentDigest({ name: 'café'.normalize('NFC') }));
  });

  it('checklist 54: stored text with duplicate keys, reordered keys, escapes or exponent numbers is refused', () => {
    const canonical = canonicalJson(event);
    expect(push(canonical)).toBeUndefined();
    const variants = [
      canonical.replace('{"actor":"alice"', '{"actor":"mallory","actor":"alice"'),
      canonical.replace('"sequence":1', '"sequence":1e0'),
      canonical.replace('"actor":"alice"', '"actor":"\\u0061lice"'),
      JSON.stringify(event),
      canonical.replace('"sequence":1', '"sequence":1.0'),
    ];
    for (const text of variants) {
      expect([text.slice(0, 40), push(text)?.reason]).toEqual([text.slice(0, 40), 'stored event is not in canonical JSON form']);
    }
  });
});
