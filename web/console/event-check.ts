import canonicalize from 'canonicalize';

/** An event as the `auditEvents` subscription delivers it (the fields the console shows and checks). */
export interface LiveEvent {
  sequence: number;
  eventType: string;
  outcome: string;
  actor: string;
  occurredAt: string;
  eventHash: string;
  prevHash: string | null;
  refusalReasonCode: string | null;
  refusalReason: string | null;
  /** The event exactly as hashed: RFC 8785 canonical JSON. */
  canonical: string;
}

export interface CheckedEvent {
  event: LiveEvent;
  /** Empty when the event's hash and its link to the previous event hold. */
  problems: string[];
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Checks a chain in the browser as the server's ChainVerifier does: the stored text is the
 * RFC 8785 canonical form of itself; `event_hash` is `sha256:` + SHA-256 of the canonical JSON
 * of the event without `event_hash` (WebCrypto); `prev_hash` is the previous event's
 * `event_hash` (none on sequence 1); sequences follow one another. Events must be pushed in order.
 *
 * `push` checks the text and the link at once and only the hash after its digest: events may
 * be pushed while the digests of earlier ones are still being computed (a long chain is then
 * checked at the speed of the CPU, not one digest's round trip per event).
 */
export class ChainCheck {
  private previous: { sequence: number; eventHash: string } | undefined;

  push(event: LiveEvent): Promise<CheckedEvent> {
    const problems: string[] = [];
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(event.canonical) as Record<string, unknown>;
    } catch {
      problems.push('stored event is not JSON');
    }
    let storedHash = event.eventHash;
    let digest: Promise<string> | undefined;
    let hashed: unknown;
    if (parsed) {
      if (canonicalize(parsed) !== event.canonical) problems.push('stored event is not in canonical form');
      const { event_hash: ownHash, ...unhashed } = parsed;
      hashed = ownHash;
      if (typeof hashed === 'string') storedHash = hashed;
      digest = sha256Hex(canonicalize(unhashed) ?? '');
      if (hashed !== event.eventHash) problems.push('event_hash differs from the stored column');
      const prev = parsed.prev_hash;
      if (this.previous === undefined) {
        if (event.sequence === 1 && prev !== undefined) problems.push('first event has a prev_hash');
      } else {
        if (event.sequence !== this.previous.sequence + 1) problems.push(`sequence ${this.previous.sequence + 1} is missing`);
        if (prev !== this.previous.eventHash) problems.push('prev_hash does not match the previous event_hash');
      }
    }
    this.previous = { sequence: event.sequence, eventHash: storedHash };
    if (!digest) return Promise.resolve({ event, problems });
    return digest.then((hex) => {
      if (`sha256:${hex}` !== hashed) problems.unshift('event_hash does not match the event');
      return { event, problems };
    });
  }
}
