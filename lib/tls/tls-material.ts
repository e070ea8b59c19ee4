import { readFile } from 'node:fs/promises';
import { ensureDevPki } from './dev-pki';

/** PEM-encoded certificates and PKCS#8 keys for mutual TLS between the gateway and its subgraphs. */
export interface TlsMaterial {
  /** The CA that issued both sides' certificates; the only CA either side trusts. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** Paths of PEM files issued by an operator's own PKI. */
export interface TlsFiles {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface LoadTlsMaterialOptions {
  /** Operator-provided files; when absent a development PKI under `pkiDir` is used. */
  files?: TlsFiles;
  /** Directory of the development PKI, created on first use. */
  pkiDir: string;
}

export async function loadTlsMaterial(options: LoadTlsMaterialOptions): Promise<TlsMaterial> {
  const { files } = options;
  if (!files) return ensureDevPki(options.pkiDir);
  const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all([
    readPem(files.caFile),
    readPem(files.serverCertFile),
    readPem(files.serverKeyFile),
    readPem(files.clientCertFile),
    readPem(files.clientKeyFile),
  ]);
  return { ca, serverCert, serverKey, clientCert, clientKey };
}

async function readPem(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read TLS file ${file} (${describe(error)})`, { cause: error });
  }
  // Caught here, a wrong path reads as itself rather than as an OpenSSL decoder error at listen time.
  if (!text.includes('-----BEGIN ')) throw new Error(`TLS file ${file} is not PEM`);
  return text;
}

function describe(error: unknown): string {
  // Duck-typed: under jest, errors from Node's own modules are not `instanceof` the test realm's Error.
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return String(error);
}
