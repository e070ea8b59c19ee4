/**
 * The hash methods a bundle declares in `verifier-inputs.json`, by their exact spelling in
 * the spec's golden bundles, each as a streaming accumulator over the ordered event hashes
 * (so a chain of any length is hashed in constant memory).
 */
import { createHash } from 'node:crypto';
import type { Hash as NodeHash } from 'node:crypto';
import { MerkleAccumulator, eventHashLeaf, toHex } from '../proofs/merkle';

/** `event_hash_method` of the golden bundles (and of the ledger). */
export const EVENT_HASH_METHOD = 'sha256(canonical_json(event) without event_hash)';
/** `segment_hash_method` and `bundle_hash_method` of the golden bundles. */
export const JOINED_HASH_METHOD = 'sha256(newline-joined event_hash values)';
/** `merkle_root_method`: RFC 9162 tree whose leaves are the 32-byte event_hash digests. */
export const MERKLE_ROOT_METHOD = 'rfc9162_sha256(event_hash digests)';
/** `eosc://evidence/chain/sha256:<hex>`: SHA-256 of the exact bytes of chain-segment.json. */
export const SEGMENT_REF_PREFIX = 'eosc://evidence/chain/';

/** Digest accumulator over the ordered event hashes. */
export interface EventHashAccumulator {
  push(eventHash: string): void;
  /** `sha256:<hex>`. */
  digest(): string;
}

class JoinedHash implements EventHashAccumulator {
  private readonly hash: NodeHash = createHash('sha256');
  private first = true;

  push(eventHash: string): void {
    this.hash.update(this.first ? eventHash : `\n${eventHash}`);
    this.first = false;
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

class MerkleRootHash implements EventHashAccumulator {
  private readonly tree = new MerkleAccumulator();
  private invalid = false;

  push(eventHash: string): void {
    try {
      this.tree.push(eventHashLeaf(eventHash));
    } catch {
      this.invalid = true;
    }
  }

  /** An event hash that is not `sha256:<hex>` makes the root unattainable. */
  digest(): string {
    return this.invalid ? 'invalid: an event_hash is not sha256:<hex>' : `sha256:${toHex(this.tree.root())}`;
  }
}

const METHODS: Record<string, () => EventHashAccumulator> = {
  [JOINED_HASH_METHOD]: () => new JoinedHash(),
  [MERKLE_ROOT_METHOD]: () => new MerkleRootHash(),
};

/** A fresh accumulator for a declared method, or `undefined` when the method is unknown. */
export function accumulatorFor(method: string): EventHashAccumulator | undefined {
  return Object.hasOwn(METHODS, method) ? METHODS[method]!() : undefined;
}

export function isKnownMethod(method: unknown): method is string {
  return typeof method === 'string' && Object.hasOwn(METHODS, method);
}
