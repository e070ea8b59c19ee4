/**
 * Writes a tenant export package as a `.tar.gz`, one item at a time: each item's header
 * carries its declared size, its bytes stream through a SHA-256 on their way to the gzip
 * stream (never held whole), and a size that does not match fails the package. The
 * manifest comes last, once every digest is known, followed by its detached signature and
 * the public keys (the strict tar reader of lib/bundle accepts any order).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';
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

export class PackageWriter {
  private readonly gzip: Gzip;
  private readonly finished: Promise<void>;
  private readonly items: PackageContent[] = [];

  constructor(out: Writable) {
    this.gzip = createGzip();
    this.gzip.pipe(out);
    this.finished = once(out, 'finish').then(() => undefined);
  }

  /** The items written so far, in archive order. */
  get contents(): readonly PackageContent[] {
    return this.items;
  }

  async add(item: PackageItem): Promise<PackageContent> {
    await this.write(tarHeader(item.path, item.size));
    const hash = createHash('sha256');
    let size = 0;
    const chunks = Buffer.isBuffer(item.content) ? [item.content] : item.content;
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > item.size) throw new Error(`${item.path} is longer than its declared ${item.size} bytes`);
      hash.update(chunk);
      await this.write(chunk);
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
