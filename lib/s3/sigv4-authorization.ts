import { SIGV4_ALGORITHM } from './sigv4-crypto';
import { parseCredential, parseSignedHeaders, type SignatureCredential } from './sigv4-credential';
import { S3Error } from './s3-error';

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export interface AuthorizationParts extends SignatureCredential {
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string): AuthorizationParts {
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  const fields = new Map<string, string>();
  for (const component of header.slice(space + 1).split(',')) {
    const trimmed = component.trim();
    const equals = trimmed.indexOf('=');
    const name = trimmed.slice(0, equals);
    if (equals <= 0 || fields.has(name)) throw malformed();
    fields.set(name, trimmed.slice(equals + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (fields.size !== 3 || credential === undefined || signedHeaders === undefined || signature === undefined) throw malformed();
  return {
    ...parseCredential(credential, 'AuthorizationHeaderMalformed'),
    signedHeaders: parseSignedHeaders(signedHeaders, 'AuthorizationHeaderMalformed'),
    signature,
  };
}

function malformed(): S3Error {
  return new S3Error(
    'AuthorizationHeaderMalformed',
    'The authorization header is malformed; it must carry Credential, SignedHeaders and Signature, once each.',
  );
}
