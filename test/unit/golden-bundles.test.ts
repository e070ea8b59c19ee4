import { canonicalJson, contentDigest, sha256Digest } from '../../lib/evidence/canonical-json';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { ChainVerifier } from '../../lib/evidence/chain-verifier';
import { readGoldenEvents, readGoldenJson } from '../support/ecs-spec';

describe.each(['baseline', 'ncp'] as const)('golden bundle %s', (name) => {
  const lines = readGoldenEvents(name);
  const events = lines.map((line) => JSON.parse(line) as JsonObject);
  const inputs = readGoldenJson<{ event_hash_method: string; segment_hash_method: string; bundle_hash_method: string }>(
    name,
    'verifier-inputs.json',
  );

  it('declares the hash methods the ledger implements', () => {
    expect(inputs.event_hash_method).toBe('sha256(canonical_json(event) without event_hash)');
    expect(inputs.segment_hash_method).toBe('sha256(newline-joined event_hash values)');
    expect(inputs.bundle_hash_method).toBe('sha256(newline-joined event_hash values)');
  });

  it('every published event_hash is recomputed by the ledger code', () => {
    for (const event of events) {
      const { event_hash: published, ...unhashed } = event;
      expect(contentDigest(unhashed)).toBe(published);
    }
  });

  it('the events are stored in the canonical form the ledger writes', () => {
    for (const line of lines) expect(canonicalJson(JSON.parse(line) as JsonObject)).toBe(line);
  });

  it('segment_hash and bundle_hash are recomputed from the event hashes', () => {
    const segment = readGoldenJson<{ segment_hash: string }>(name, 'chain-segment.json');
    const manifest = readGoldenJson<{ bundle_hash: string }>(name, 'manifest.json');
    const joined = events.map((event) => event.event_hash as string).join('\n');
    expect(sha256Digest(joined)).toBe(segment.segment_hash);
    expect(sha256Digest(joined)).toBe(manifest.bundle_hash);
  });

  it('the chain verifier accepts the segment and rejects it with one event changed', () => {
    const verifier = new ChainVerifier();
    expect(verifier.anchor(lines[0]!)).toBe(true);
    for (const line of lines.slice(1)) expect(verifier.push(line)).toBe(true);
    expect(verifier.failure).toBeUndefined();

    const tampered = new ChainVerifier();
    tampered.anchor(lines[0]!);
    const changed = { ...events[1]!, outcome: 'refused' };
    expect(tampered.push(canonicalJson(changed))).toBe(false);
    expect(tampered.failure).toEqual({ sequence: events[1]!.sequence, reason: 'event_hash does not match the event' });
  });
});
