/**
 * Writes a tenant export package as a `.tar.gz`, one item at a time: each item's header
 * carries its declared size, its bytes stream through a SHA-256 on their way to the gzip
 * stream (never held whole), and a size that does not match fails the package. The
 * manifest comes last, once every digest is known, followed by its detached signature and
 * the public keys (the strict tar reader of lib/bundle accepts any order).
 *
 * Bytes that do not compress are stored, not deflated: a large streamed item (an object
 * version, the nested evidence bundle) whose first 64 KB deflate to more than 90% of their
 * size is written at gzip level 0 (stored blocks, the same gzip format, read by any
 * gunzip), everything else at the default level. Deflating bytes that are already
 * compressed or encrypted (most of what tenants store) takes as long as compressing text
 * (about 19 s per GiB here, on the one stream) and saves nothing.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { constants, createGzip, deflateRawSync } from 'node:zlib';
import type { Gzip, ZlibParams } from 'node:zlib';
import { TAR_BLOCK, tarHeader } from '../bundle/tar-header';
import type { BundleSigner } from '../bundle/plan-bundle';
import { prettyCanonicalJson } from '../bundle/pretty-json';
import { detachPayload } from '../keys/verify-jws';
import type { JsonObject, JsonValue } from '../evidence/canonical-json';
import { PACKAGE_FILES, PACKAGE_SIGNATURE_TYP } from './package-manifest';
import type { ContentType, ManifestHead, PackageContent, PackageManifest } from './package-manifest';

export interface PackageItem {
  type: ContentType;
  path: string;
  size: number;
  content: Buffer | AsyncIterable<Buffer>;
  governance_metadata?: JsonObject;
}

/** A JSON document as a package item, rendered like every manifest (canonical, indented). */
export function jsonItem(type: ContentType, path: string, value: JsonValue, governance?: JsonObject): PackageItem {
  const bytes = Buffer.from(prettyCanonicalJson(value), 'utf8');
  return { type, path, size: bytes.length, content: bytes, ...(governance ? { governance_metadata: governance } : {}) };
}

/** Bytes of an item's first chunk tried at level 1 to see whether they compress. */
const SAMPLE_BYTES = 64 * 1024;
/** A sample that deflates to more than this share of its size is stored. */
const STORE_ABOVE = 0.9;

/** Whether `sample` is worth deflating (its level-1 deflate saves 10% or more). */
export function compresses(sample: Buffer): boolean {
  if (sample.length === 0) return true;
  return deflateRawSync(sample, { level: 1 }).length <= sample.length * STORE_ABOVE;
}

async function* chunksOf(content: Buffer | AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
  if (Buffer.isBuffer(content)) yield content;
  else yield* content;
}

export class PackageWriter {
  private readonly gzip: Gzip & ZlibParams;
  private level: number = constants.Z_DEFAULT_COMPRESSION;
  private readonly finished: Promise<void>;
  private readonly items: PackageContent[] = [];

  constructor(out: Writable) {
    this.gzip = createGzip() as Gzip & ZlibParams;
    this.gzip.pipe(out);
    this.finished = once(out, 'finish').then(() => undefined);
  }

  /** The items written so far, in archive order. */
  get contents(): readonly PackageContent[] {
    return this.items;
  }

  async add(item: PackageItem): Promise<PackageContent> {
    const iterator = chunksOf(item.content);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const first = await iterator.next();
      // A document written whole is small and text: the default level. A stream is sampled.
      const store = !Buffer.isBuffer(item.content) && !first.done && !compresses(first.value.subarray(0, SAMPLE_BYTES));
      await this.setLevel(store ? constants.Z_NO_COMPRESSION : constants.Z_DEFAULT_COMPRESSION);
      await this.write(tarHeader(item.path, item.size));
      for (let next = first; !next.done; next = await iterator.next()) {
        const chunk = next.value;
        size += chunk.length;
        if (size > item.size) throw new Error(`${item.path} is longer than its declared ${item.size} bytes`);
        hash.update(chunk);
        await this.write(chunk);
      }
    } finally {
      await iterator.return(undefined);
    }
    if (size !== item.size) throw new Error(`${item.path} has ${size} bytes, not its declared ${item.size}`);
    await this.pad(size);
    const entry: PackageContent = { type: item.type, path: item.path, integrity_hash: `sha256:${hash.digest('hex')}`, size };
    if (item.governance_metadata) entry.governance_metadata = item.governance_metadata;
    this.items.push(entry);
    return entry;
  }

  /** Writes the signed manifest, the signature and the public keys, and ends the archive. Returns the manifest's text. */
  async finish(head: ManifestHead, signer: BundleSigner): Promise<string> {
    const manifest: PackageManifest = {
      ...head,
      contents: this.items,
      signatures: [{ key_id: signer.kid, alg: 'EdDSA', signature_ref: PACKAGE_FILES.signature }],
    };
    const text = prettyCanonicalJson(manifest);
    const bytes = Buffer.from(text, 'utf8');
    const signature = detachPayload(await signer.sign(bytes, PACKAGE_SIGNATURE_TYP));
    await this.small(PACKAGE_FILES.manifest, bytes);
    await this.small(PACKAGE_FILES.signature, Buffer.from(signature, 'utf8'));
    await this.small(PACKAGE_FILES.jwks, Buffer.from(prettyCanonicalJson(signer.jwks as unknown as JsonValue), 'utf8'));
    await this.write(Buffer.alloc(TAR_BLOCK * 2));
    this.gzip.end();
    await this.finished;
    return text;
  }

  /** Changes the deflate level for what is written next (a sync flush first, by zlib's `params`). */
  private async setLevel(level: number): Promise<void> {
    if (level === this.level) return;
    this.level = level;
    await new Promise<void>((resolve) => this.gzip.params(level, constants.Z_DEFAULT_STRATEGY, () => resolve()));
  }

  /** Stops writing after a failure (the output and the partial file are the caller's to close and remove). */
  abort(): void {
    this.gzip.unpipe();
    this.gzip.destroy();
  }

  private async small(name: string, bytes: Buffer): Promise<void> {
    await this.write(tarHeader(name, bytes.length));
    await this.write(bytes);
    await this.pad(bytes.length);
  }

  private async pad(size: number): Promise<void> {
    const pad = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    if (pad) await this.write(Buffer.alloc(pad));
  }

  private async write(chunk: Buffer): Promise<void> {
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }
}
