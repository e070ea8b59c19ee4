import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { openSecret, sealSecret } from '../../lib/s3/secret-box';

describe('sealed S3 secrets', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and the sealed text never holds the secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 20 }), (secret, context) => {
        const sealed = sealSecret(key, secret, context);
        expect(sealed).not.toContain(secret.length > 3 ? secret : '\u0000');
        expect(openSecret(key, sealed, context)).toBe(secret);
      }),
    );
  });

  it('refuses another key, another access key id, a changed byte and garbage', () => {
    const sealed = sealSecret(key, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'ECSKAAAA');
    expect(() => openSecret(randomBytes(32), sealed, 'ECSKAAAA')).toThrow();
    expect(() => openSecret(key, sealed, 'ECSKBBBB')).toThrow();
    const [version, iv, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
    expect(() => openSecret(key, `${version}.${iv}.${flipped.toString('base64url')}`, 'ECSKAAAA')).toThrow();
    expect(() => openSecret(key, 'v1.short', 'ECSKAAAA')).toThrow('not a sealed secret');
    expect(sealSecret(key, 'same', 'ctx')).not.toBe(sealSecret(key, 'same', 'ctx'));
  });
});
