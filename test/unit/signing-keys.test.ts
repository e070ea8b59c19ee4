import { stat } from 'node:fs/promises';
import path from 'node:path';
import { compactVerify, createLocalJWKSet } from 'jose';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import { rotateSigningKey } from '../support/rotate-signing-key';
import { makeTempDir } from '../../testkit/temp-dir';

describe('service signing keys', () => {
  it('creates one key on first use, even when several loaders race, and keeps it private', async () => {
    const dir = await makeTempDir();
    try {
      const file = path.join(dir.path, 'keys', 'signing-keys.json');
      const loaded = await Promise.all(Array.from({ length: 5 }, () => loadSigningKeys(file)));
      expect(new Set(loaded.map((keys) => keys.kid)).size).toBe(1);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const jwk = loaded[0]!.jwks.keys[0]!;
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: loaded[0]!.kid });
      expect(jwk).not.toHaveProperty('d');
    } finally {
      await dir.remove();
    }
  });

  it('checklist 55: signs JWS that verify against the published JWKS, also after rotation', async () => {
    const dir = await makeTempDir();
    try {
      const file = path.join(dir.path, 'signing-keys.json');
      const before = await loadSigningKeys(file);
      const old = await before.sign(Buffer.from('{"a":1}'), 'test+jws');
      const newKid = await rotateSigningKey(file);
      const after = await loadSigningKeys(file);
      expect(after.kid).toBe(newKid);
      expect(after.kid).not.toBe(before.kid);
      const jwks = createLocalJWKSet(after.jwks as Parameters<typeof createLocalJWKSet>[0]);
      const verifiedOld = await compactVerify(old, jwks);
      expect(Buffer.from(verifiedOld.payload).toString()).toBe('{"a":1}');
      expect(verifiedOld.protectedHeader).toMatchObject({ alg: 'EdDSA', kid: before.kid, typ: 'test+jws' });
      const fresh = await after.sign(Buffer.from('{"b":2}'), 'test+jws');
      expect(Buffer.from(await after.verify(fresh)).toString()).toBe('{"b":2}');
      // Flip a character inside the signature (the last base64url character carries padding bits).
      const at = fresh.length - 10;
      const tampered = `${fresh.slice(0, at)}${fresh[at] === 'A' ? 'B' : 'A'}${fresh.slice(at + 1)}`;
      await expect(after.verify(tampered)).rejects.toThrow();
      expect(after.derivedSecret('cursor')).toHaveLength(32);
      expect(after.derivedSecret('cursor').equals(after.derivedSecret('other'))).toBe(false);
    } finally {
      await dir.remove();
    }
  });
});
