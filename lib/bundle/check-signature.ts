/**
 * The manifest signature: a detached compact JWS (EdDSA, `typ: ecs-bundle-manifest+jws`)
 * over the exact bytes of manifest.json, in `manifest.sig` (or `signature.jws`), verified
 * with the caller's JWKS or else the bundle's own `jwks.json` (which proves integrity but
 * not origin, and says so). Inline `signatures[].signature` values that are not JWS (the
 * golden bundles' `base64...` placeholders) are reported, not verified.
 */
import type { JSONWebKeySet } from 'jose';
import { JwsError, parseJwks, verifyJws } from '../keys/verify-jws';
import { MANIFEST_SIGNATURE_TYP, SIGNATURE_FILES } from './bundle';
import { isObject, list } from './read-documents';
import type { BundleDocuments } from './read-documents';
import type { Findings } from './findings';

export interface SignatureOutcome {
  /** Files the signature covers when it verifies (manifest and signature file). */
  covered: string[];
  detail: string;
}

export async function checkSignature(
  documents: BundleDocuments,
  findings: Findings,
  trustedJwks: JSONWebKeySet | undefined,
): Promise<SignatureOutcome> {
  const none = { covered: [], detail: 'no manifest signature' };
  const present = SIGNATURE_FILES.filter((name) => documents.signatures.has(name));
  const entries = (list(documents.manifest, 'signatures') ?? []).filter(isObject);
  for (const entry of entries) {
    if (typeof entry.signature === 'string')
      findings.note('signature', `inline signature of ${String(entry.key_id)} is not verifiable and was not checked`);
  }
  if (present.length === 0) {
    if (entries.some((entry) => entry.signature_ref !== undefined))
      findings.fail('signature', 'the manifest names a signature file that is missing');
    findings.note('signature', 'bundle is not signed');
    return none;
  }
  if (present.length > 1) {
    findings.fail('signature', `more than one signature file (${present.join(', ')})`);
    return none;
  }
  const name = present[0]!;
  let keys = trustedJwks;
  if (!keys) {
    try {
      keys = parseJwks(documents.jwks);
    } catch (error) {
      findings.fail('signature', `signed, but no usable JWKS: jwks.json ${(error as Error).message}; pass --jwks`);
      return none;
    }
    findings.note('signature', "key taken from the bundle's own jwks.json: this proves integrity, not origin; pin it with --jwks");
  }
  try {
    const jws = documents.signatures.get(name)!.toString('latin1');
    const { kid } = await verifyJws(jws, { jwks: keys, typ: MANIFEST_SIGNATURE_TYP, payload: documents.manifestBytes ?? Buffer.alloc(0) });
    const named = entries.filter((entry) => entry.signature_ref === name);
    if (named.length > 0 && !named.some((entry) => entry.key_id === kid)) {
      findings.fail(
        'signature',
        `${name} is signed by ${kid}, the manifest names ${named.map((entry) => String(entry.key_id)).join(', ')}`,
      );
      return none;
    }
    return { covered: ['manifest.json', name], detail: `${name}: EdDSA signature over manifest.json by key ${kid}` };
  } catch (error) {
    findings.fail('signature', `${name}: ${error instanceof JwsError ? error.message : String(error)}`);
    return none;
  }
}
