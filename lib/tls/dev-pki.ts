// @peculiar/x509 resolves its services through tsyringe, which needs the metadata polyfill first.
import 'reflect-metadata';
import { X509Certificate as NodeCertificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
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
const LOCK_POLL_MS = 20;
const LOCK_WAIT_MS = 30_000;
/** Writing the PKI takes milliseconds: a lock this old was left by a process that died holding it. */
const LOCK_STALE_MS = 60_000;

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
 * lock file and replace each file by rename, so readers and racing processes always end up
 * with one consistent set.
 */
export async function ensureDevPki(dir: string): Promise<TlsMaterial> {
  const existing = await readPki(dir);
  if (assess(existing, Date.now()) === 'fresh') return toMaterial(existing as PkiPems);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withFileLock(path.join(dir, '.lock'), async () => {
    // Another process may have finished the work while this one waited for the lock.
    const current = await readPki(dir);
    const verdict = assess(current, Date.now());
    if (verdict === 'fresh') return toMaterial(current as PkiPems);
    const pems = verdict === 'create' ? await createPki() : await renewLeaves(current as PkiPems);
    for (const [name, file] of Object.entries(PKI_FILES)) {
      const pem = pems[name as keyof PkiPems];
      if (pem !== current[name as keyof PkiPems]) await writeFileAtomic(path.join(dir, file), pem);
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

/** Writes through a temporary name, so the final name only ever holds a complete file. */
async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function withFileLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!(await tryLock(lockPath))) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${lockPath}; delete it if no ECS process is starting`);
    }
    await delay(LOCK_POLL_MS);
  }
  try {
    return await work();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function tryLock(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    try {
      await handle.writeFile(String(process.pid));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  return (await breakIfStale(lockPath)) ? tryLock(lockPath) : false;
}

interface LockState {
  holder: string;
  mtimeMs: number;
}

/**
 * Removes a lock whose holder died. Renaming it aside first means only one of several
 * waiters removes it, and lets that waiter notice when it grabbed a fresh lock instead.
 */
async function breakIfStale(lockPath: string): Promise<boolean> {
  const seen = await readLock(lockPath);
  if (!seen) return true;
  if (!isStale(seen)) return false;
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return true;
    throw error;
  }
  const moved = await readLock(aside);
  if (moved && (moved.holder !== seen.holder || moved.mtimeMs !== seen.mtimeMs)) {
    // Another waiter broke the stale lock and took a new one between our look and our rename.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

async function readLock(lockPath: string): Promise<LockState | undefined> {
  try {
    const [holder, stats] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { holder, mtimeMs: stats.mtimeMs };
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function isStale(lock: LockState): boolean {
  if (Date.now() - lock.mtimeMs > LOCK_STALE_MS) return true;
  // An empty lock is one being written right now, unless it is old enough to be caught above.
  const pid = Number.parseInt(lock.holder, 10);
  return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return isErrno(error, 'EPERM');
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
