import type { IncomingHttpHeaders } from 'node:http';

/** What a conditional GET or HEAD comes to: go on, 304 Not Modified, or 412 Precondition Failed. */
export type ConditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

const CONDITION_HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'] as const;

export function hasConditions(headers: IncomingHttpHeaders): boolean {
  return CONDITION_HEADERS.some((name) => headers[name] !== undefined);
}

function etagMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/^W\//, '').replace(/"/g, '');
  return list.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '').replace(/"/g, '') === bare;
  });
}

function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/** Evaluates the conditional headers against the object's ETag and last modification, as S3 does (RFC 9110 order). */
export function evaluateConditions(headers: IncomingHttpHeaders, etag: string, lastModified: Date): ConditionOutcome {
  const modified = Math.floor(lastModified.getTime() / 1000) * 1000;
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, etag)) return 'precondition-failed';
  } else {
    const unmodifiedSince = httpDate(headers['if-unmodified-since']);
    if (unmodifiedSince !== undefined && modified > unmodifiedSince) return 'precondition-failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag) ? 'not-modified' : 'proceed';
  const modifiedSince = httpDate(headers['if-modified-since']);
  if (modifiedSince !== undefined && modified <= modifiedSince) return 'not-modified';
  return 'proceed';
}
