import fc from 'fast-check';
import { parseRange } from '../../rest-adapter/s3/byte-range';
import { evaluateConditions } from '../../rest-adapter/s3/conditional-request';
import { S3Error } from '../../lib/s3/s3-error';

describe('S3 byte ranges', () => {
  it('reads the three forms of a single range, clamped to the object', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=95-500', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
  });

  it('never gives a range outside the object, and refuses an unsatisfiable one with InvalidRange', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.option(fc.nat(2000)), fc.option(fc.nat(2000)), (size, first, last) => {
        const header = `bytes=${first ?? ''}-${last ?? ''}`;
        try {
          const range = parseRange(header, size);
          if (range) expect(0 <= range.start && range.start <= range.end && range.end < size).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(S3Error);
          expect((error as S3Error).code).toBe('InvalidRange');
        }
      }),
    );
  });
});

describe('S3 conditional requests', () => {
  const etag = '"abc"';
  const modified = new Date('2026-12-06T10:00:00Z');
  const before = 'Sun, 06 Dec 2026 09:00:00 GMT';
  const after = 'Sun, 06 Dec 2026 11:00:00 GMT';

  it('answers as RFC 9110 orders the conditions', () => {
    expect(evaluateConditions({}, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-match': '"abc"' }, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-match': '"other", *' }, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-match': '"other"' }, etag, modified)).toBe('precondition-failed');
    expect(evaluateConditions({ 'if-none-match': 'W/"abc"' }, etag, modified)).toBe('not-modified');
    expect(evaluateConditions({ 'if-none-match': '"other"', 'if-modified-since': after }, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-modified-since': after }, etag, modified)).toBe('not-modified');
    expect(evaluateConditions({ 'if-modified-since': before }, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-unmodified-since': before }, etag, modified)).toBe('precondition-failed');
    expect(evaluateConditions({ 'if-match': '"abc"', 'if-unmodified-since': before }, etag, modified)).toBe('proceed');
    expect(evaluateConditions({ 'if-modified-since': 'not a date' }, etag, modified)).toBe('proceed');
  });
});
