import type { Request, Response } from 'express';
import { S3Error } from '../../lib/s3/s3-error';
import type { PlaneStreamOptions } from '../plane-stream';
import { planeBucketListing } from './s3-plane-request';
import { xmlDocument } from './s3-xml';

/** Pages of the data plane read for one listing at most; past that the answer is truncated early. */
const MAX_PAGES_PER_LISTING = 10;

interface PlaneItem {
  key: string;
  size: number;
  /** The SHA-256. */
  etag: string;
  /** S3's ETag (absent from a data plane that does not record it). */
  s3_etag?: string | null;
  last_modified: string;
}

/** The continuation token: the data plane's (signed) cursor, and the common prefix last returned. */
interface Continuation {
  cursor: string | null;
  lastPrefix?: string;
}

function decodeToken(token: string | undefined): Continuation {
  if (token === undefined) return { cursor: null };
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Continuation>;
    if (typeof value.cursor === 'string' && (value.lastPrefix === undefined || typeof value.lastPrefix === 'string')) {
      return { cursor: value.cursor, lastPrefix: value.lastPrefix };
    }
  } catch {
    // falls through
  }
  throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
}

export function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

export function maxKeysOf(req: Request): number {
  const text = queryValue(req, 'max-keys');
  if (text === undefined) return 1000;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new S3Error('InvalidArgument', 'max-keys must be 1..1000');
  return Number(text);
}

interface Listing {
  contents: PlaneItem[];
  prefixes: string[];
  truncated: boolean;
  /** The data plane's cursor after the last key read, when truncated. */
  cursor: string | null;
  lastPrefix: string | undefined;
  /** The last key read from the data plane (grouped into a common prefix or not). */
  lastKeyRead: string | undefined;
}

/**
 * Up to `maxKeys` keys and common prefixes of the bucket under `prefix`, read page by page from
 * the data plane's listing in key order, from `cursor` or else after `startAfter`. With a
 * delimiter, keys below the prefix that contain it are grouped into common prefixes, each
 * returned once across pages (`lastPrefix` is the one returned last).
 */
async function collectListing(
  options: PlaneStreamOptions,
  res: Response,
  bucket: string,
  from: { prefix: string; delimiter: string | undefined; maxKeys: number; cursor: string | null; startAfter?: string; lastPrefix?: string },
): Promise<Listing | undefined> {
  const { prefix, delimiter, maxKeys } = from;
  let { cursor, lastPrefix } = from;
  const contents: PlaneItem[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let lastKeyRead: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_LISTING; page += 1) {
    const query = new URLSearchParams({ prefix, limit: String(maxKeys - contents.length - prefixes.length) });
    if (cursor) query.set('cursor', cursor);
    else if (from.startAfter) query.set('start_after', from.startAfter);
    const body = await planeBucketListing<{ items: PlaneItem[]; next_cursor: string | null }>(options, res, bucket, String(query));
    if (!body) return undefined;
    for (const item of body.items) {
      lastKeyRead = item.key;
      const cut = delimiter === undefined ? -1 : item.key.indexOf(delimiter, prefix.length);
      if (cut === -1) contents.push(item);
      else {
        const common = item.key.slice(0, cut + delimiter!.length);
        if (common !== lastPrefix) prefixes.push(common);
        lastPrefix = common;
      }
    }
    cursor = body.next_cursor;
    truncated = cursor !== null;
    if (!truncated || contents.length + prefixes.length >= maxKeys) break;
  }
  return { contents, prefixes, truncated, cursor, lastPrefix, lastKeyRead };
}

function contentsXml(items: PlaneItem[]) {
  return items.map((item) => ({
    Key: item.key,
    LastModified: item.last_modified,
    ETag: `"${item.s3_etag ?? item.etag}"`,
    Size: item.size,
    StorageClass: 'STANDARD',
  }));
}

/**
 * ListObjectsV2 (prefix, delimiter, continuation-token, start-after, max-keys). The continuation
 * token carries the data plane's signed cursor and the common prefix returned last.
 */
export async function listObjectsV2(options: PlaneStreamOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const delimiter = queryValue(req, 'delimiter') || undefined;
  const maxKeys = maxKeysOf(req);
  const token = queryValue(req, 'continuation-token');
  const startAfter = queryValue(req, 'start-after') || undefined;
  const { cursor, lastPrefix } = decodeToken(token);
  const listing = await collectListing(options, res, bucket, { prefix, delimiter, maxKeys, cursor, lastPrefix, startAfter });
  if (!listing) return;
  const next =
    listing.truncated && listing.cursor
      ? Buffer.from(JSON.stringify({ cursor: listing.cursor, lastPrefix: listing.lastPrefix }), 'utf8').toString('base64url')
      : undefined;
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListBucketResult', {
      Name: bucket,
      Prefix: prefix,
      ...(startAfter !== undefined ? { StartAfter: startAfter } : {}),
      ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
      MaxKeys: maxKeys,
      KeyCount: listing.contents.length + listing.prefixes.length,
      IsTruncated: listing.truncated,
      ...(token !== undefined ? { ContinuationToken: token } : {}),
      ...(next ? { NextContinuationToken: next } : {}),
      Contents: contentsXml(listing.contents),
      CommonPrefixes: listing.prefixes.map((common) => ({ Prefix: common })),
    }),
  );
}

/**
 * The common prefix `key` falls under (the prefix, then up to and including the first delimiter
 * after it), if any: a marker inside a common prefix must not bring that prefix back.
 */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined || !key.startsWith(prefix)) return undefined;
  const cut = key.indexOf(delimiter, prefix.length);
  return cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
}

/**
 * ListObjects, version 1 (prefix, delimiter, marker, max-keys): the listing resumes after the
 * `marker` key; the common prefix a marker falls under is not returned again. `NextMarker`
 * (with a delimiter, as S3 sends it) is the last key read.
 */
export async function listObjectsV1(options: PlaneStreamOptions, bucket: string, req: Request, res: Response): Promise<void> {
  const prefix = queryValue(req, 'prefix') ?? '';
  const delimiter = queryValue(req, 'delimiter') || undefined;
  const maxKeys = maxKeysOf(req);
  const marker = queryValue(req, 'marker') ?? '';
  const lastPrefix = commonPrefixOf(marker, prefix, delimiter);
  const listing = await collectListing(options, res, bucket, {
    prefix,
    delimiter,
    maxKeys,
    cursor: null,
    lastPrefix,
    startAfter: marker || undefined,
  });
  if (!listing) return;
  // The last key read, even one folded into a common prefix: the next page starts after it, so a
  // common prefix holding more keys than one answer reads is still left behind, page by page.
  const nextMarker = listing.lastKeyRead;
  res.status(200).type('application/xml');
  res.send(
    xmlDocument('ListBucketResult', {
      Name: bucket,
      Prefix: prefix,
      Marker: marker,
      ...(listing.truncated && delimiter !== undefined && nextMarker !== undefined ? { NextMarker: nextMarker } : {}),
      ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
      MaxKeys: maxKeys,
      IsTruncated: listing.truncated,
      Contents: contentsXml(listing.contents),
      CommonPrefixes: listing.prefixes.map((common) => ({ Prefix: common })),
    }),
  );
}
