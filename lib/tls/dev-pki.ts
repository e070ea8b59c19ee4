// @peculiar/x509 resolves its services through tsyringe, which needs the metadata polyfill first.
import 'reflect-metadata';
import { X509Certificate as NodeCertificate, createPrivateKey, webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import type { TlsMaterial } from './tls-material';

/** Subject CN of the development client certificate that the gateway presents to subgraphs. */
export const DEV_GATEWAY_CLIENT_CN = 'ecs-gateway';
/** Subject CN of the development server certificate shared by every subgraph. */
export const DEV_SUBGRAPH_SERVER_CN = 'ecs-subgraph';

const CA_CN = 'ECS Gateway Development CA';
const DAY_MS = 24 * 60 * 60 * 1000;
const RENEW_WITHIN_MS = 7 * DAY_MS;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const crypto = webcrypto;
const LOCK_MAX_POLL_MS = 200;
const LOCK_WAIT_MS = 30_000;
/** The holder refreshes the lock every 5 s: one untouched for 10 s was left by a process that died. */
const LOCK_STALE_MS = 10_000;

const PKI_FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
} as const;
type PkiPems = Record<keyof typeof PKI_FILES, string>;
type Verdict = 'fresh' | 'renew-leaves' | 'create';

/**
 * Returns the development PKI in `dir`, creating it on first use and re-issuing the leaf
 * certificates with the existing CA when one expires within 7 days. Writers serialise on a
 * lock (proper-lockfile) and replace each file atomically (write-file-atomic), so readers
 * and racing processes always end up with one consistent set.
 */
export async function ensureDevPki(dir: string): Promise<TlsMaterial> {
  const existing = await readPki(dir);
  if (assess(existing, Date.now()) === 'fresh') return toMaterial(existing as PkiPems);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirLock(dir, async () => {
    // Another process may have finished the work while this one waited for the lock.
    const current = await readPki(dir);
    const verdict = assess(current, Date.now());
    if (verdict === 'fresh') return toMaterial(current as PkiPems);
    const pems = verdict === 'create' ? await createPki() : await renewLeaves(current as PkiPems);
    for (const [name, file] of Object.entries(PKI_FILES)) {
      const pem = pems[name as keyof PkiPems];
      if (pem !== current[name as keyof PkiPems]) await writeFileAtomic(path.join(dir, file), pem, { mode: 0o600, fsync: true });
    }
    return toMaterial(pems);
  });
}

async function readPki(dir: string): Promise<Partial<PkiPems>> {
  const pems: Partial<PkiPems> = {};
  for (const [name, file] of Object.entries(PKI_FILES)) {
    try {
      pems[name as keyof PkiPems] = await readFile(path.join(dir, file), 'utf8');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
  return pems;
}

/** Anything unreadable or mismatched counts as absent, so a damaged set repairs itself. */
function assess(pems: Partial<PkiPems>, now: number): Verdict {
  let ca: NodeCertificate;
  try {
    if (!pems.ca || !pems.caKey) return 'create';
    ca = new NodeCertificate(pems.ca);
    if (!ca.ca || !ca.checkPrivateKey(createPrivateKey(pems.caKey))) return 'create';
    if (expiresSoon(ca, now)) return 'create';
  } catch {
    return 'create';
  }
  const usable = isUsableLeaf(ca, pems.serverCert, pems.serverKey, now) && isUsableLeaf(ca, pems.clientCert, pems.clientKey, now);
  return usable ? 'fresh' : 'renew-leaves';
}

function isUsableLeaf(ca: NodeCertificate, certPem: string | undefined, keyPem: string | undefined, now: number): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new NodeCertificate(certPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && cert.checkPrivateKey(createPrivateKey(keyPem)) && !expiresSoon(cert, now);
  } catch {
    return false;
  }
}

function expiresSoon(cert: NodeCertificate, now: number): boolean {
  return Date.parse(cert.validTo) - now < RENEW_WITHIN_MS;
}

async function createPki(): Promise<PkiPems> {
  const keys = await generateKeys();
  const notBefore = backdated();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${CA_CN}`,
      keys,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 10 * 365 * DAY_MS),
      signingAlgorithm: SIGNING,
      extensions: [
        // pathLength 0: this CA signs leaves only, never an intermediate.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const ca = cert.toString('pem');
  return { ca, caKey: await exportKey(keys.privateKey), ...(await issueLeaves(cert, keys.privateKey)) };
}

async function renewLeaves(pems: PkiPems): Promise<PkiPems> {
  const caKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pems.caKey), EC_KEY, false, ['sign']);
  const leaves = await issueLeaves(new x509.X509Certificate(pems.ca), caKey);
  return { ca: pems.ca, caKey: pems.caKey, ...leaves };
}

async function issueLeaves(caCert: x509.X509Certificate, caKey: webcrypto.CryptoKey): Promise<Omit<PkiPems, 'ca' | 'caKey'>> {
  const server = await issueLeaf(caCert, caKey, DEV_SUBGRAPH_SERVER_CN, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]),
  ]);
  const client = await issueLeaf(caCert, caKey, DEV_GATEWAY_CLIENT_CN, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
  return { serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

async function issueLeaf(
  caCert: x509.X509Certificate,
  caKey: webcrypto.CryptoKey,
  commonName: string,
  extensions: x509.Extension[],
): Promise<{ cert: string; key: string }> {
  const keys = await generateKeys();
  const notBefore = backdated();
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${commonName}`,
      issuer: caCert.subjectName,
      publicKey: keys.publicKey,
      signingKey: caKey,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 365 * DAY_MS),
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ...extensions,
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A minute of slack so a certificate issued now is already valid to a peer whose clock is slightly behind. */
function backdated(): Date {
  return new Date(Date.now() - 60_000);
}

/**
 * Runs `work` holding the directory's lock (a `.lock` directory that proper-lockfile keeps
 * fresh while held), so processes starting at once create one PKI between them. A lock not
 * refreshed for `LOCK_STALE_MS` was left by a process that died and is taken over.
 */
async function withDirLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  let compromised: Error | undefined;
  const release = await lockfile
    .lock(dir, {
      lockfilePath: path.join(dir, '.lock'),
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / LOCK_MAX_POLL_MS), factor: 1.5, minTimeout: 20, maxTimeout: LOCK_MAX_POLL_MS },
      onCompromised: (error) => {
        compromised = error;
      },
    })
    .catch((error: unknown) => {
      if (!isErrno(error, 'ELOCKED')) throw error;
      throw new Error(`timed out waiting for ${path.join(dir, '.lock')}; delete it if no ECS process is starting`);
    });
  try {
    const result = await work();
    if (compromised) throw compromised;
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

function toMaterial(pems: PkiPems): TlsMaterial {
  const { ca, serverCert, serverKey, clientCert, clientKey } = pems;
  return { ca, serverCert, serverKey, clientCert, clientKey };
}

// Duck-typed: under jest, errors from Node's own modules are not `instanceof` the test realm's Error.
function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
