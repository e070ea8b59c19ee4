import fc from 'fast-check';
import {
  MAX_USER_METADATA_BYTES,
  UserMetadataError,
  storedUserMetadata,
  userMetadataHeaders,
  userMetadataOf,
} from '../../lib/domain/user-metadata';

describe('S3 user metadata (x-amz-meta-*)', () => {
  it('takes every x-amz-meta-* header but the governance names, trimmed, and nothing else', () => {
    expect(
      userMetadataOf({
        'x-amz-meta-color': '  blue ',
        'x-amz-meta-eosc-jurisdiction': 'DE',
        'x-amz-meta-mtime': '1733500000.5',
        'x-amz-meta-list': ['a', 'b'],
        'x-eosc-classification': 'internal',
        'content-type': 'text/plain',
      }),
    ).toEqual({ color: 'blue', mtime: '1733500000.5', list: 'a,b' });
    expect(userMetadataOf({})).toEqual({});
  });

  it('refuses values S3 clients could not send and more than 2 KiB of names and values', () => {
    const refusal = (headers: Record<string, string>) => {
      try {
        userMetadataOf(headers);
      } catch (error) {
        if (error instanceof UserMetadataError) return [error.header, error.tooLarge];
        throw error;
      }
      return undefined;
    };
    expect(refusal({ 'x-amz-meta-bad': 'caf\u00e9' })).toEqual(['x-amz-meta-bad', false]);
    expect(refusal({ 'x-amz-meta-bad': 'line\nbreak' })).toEqual(['x-amz-meta-bad', false]);
    expect(refusal({ 'x-amz-meta-a b': 'x' })).toEqual(['x-amz-meta-a b', false]);
    // Exactly the limit is kept; one byte more is too large.
    const name = 'big';
    expect(userMetadataOf({ 'x-amz-meta-big': 'v'.repeat(MAX_USER_METADATA_BYTES - name.length) }).big).toHaveLength(2045);
    expect(refusal({ 'x-amz-meta-big': 'v'.repeat(MAX_USER_METADATA_BYTES - name.length + 1) })).toEqual(['x-amz-meta-big', true]);
  });

  it('stores names in order and answers them back as the same headers', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/), fc.stringMatching(/^[\x21-\x7e]{0,20}$/), { maxKeys: 10 }),
        (metadata) => {
          const headers = Object.fromEntries(
            Object.entries(metadata)
              .filter(([name]) => !name.startsWith('eosc-'))
              .map(([name, value]) => [`x-amz-meta-${name}`, value]),
          );
          const stored = storedUserMetadata(userMetadataOf(headers));
          const back = Object.fromEntries(userMetadataHeaders(stored));
          expect(back).toEqual(headers);
          const names = [...(stored ?? '').matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((match) => match[1]!);
          if (stored) expect(names).toEqual([...names].sort());
          else expect(headers).toEqual({});
        },
      ),
    );
  });

  it('answers nothing for a stored text that is not an object of header-safe strings', () => {
    expect(userMetadataHeaders(null)).toEqual([]);
    expect(userMetadataHeaders('not json')).toEqual([]);
    expect(userMetadataHeaders('["a"]')).toEqual([]);
    expect(userMetadataHeaders('{"ok":"yes","n":1,"bad name":"x","nl":"a\\nb"}')).toEqual([['x-amz-meta-ok', 'yes']]);
  });
});
