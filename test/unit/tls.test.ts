// @peculiar/x509 needs the metadata polyfill loaded before it.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import * as x509 from '@peculiar/x509';
import lockfile from 'proper-lockfile';
import { Agent, fetch } from 'undici';
import { DEV_GATEWAY_CLIENT_CN, ensureDevPki } from '../../lib/tls/dev-pki';
import { FORBIDDEN_CLIENT_CERTIFICATE, createMtlsAgent, createMtlsServer, fetchWithAgent } from '../../lib/tls/mtls';
import { type TlsMaterial, loadTlsMaterial } from '../../lib/tls/tls-material';

const PKI_FILES = ['ca.pem', 'ca-key.pem', 'server.pem', 'server-key.pem', 'client.pem', 'client-key.pem'];
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * How undici reports a handshake the server refused. Node's server drops the socket without an
 * alert when the chain does not verify, and under TLS 1.3 the client has finished its side of
 * the handshake before the server judges its certificate, so the usual report is a closed socket
 * (UND_ERR_SOCKET); a reset or the server's alert are accepted too, since that is timing.
 */
const REFUSED = /^(UND_ERR_SOCKET|ECONNRESET|EPIPE|ERR_SSL_[A-Z0-9_]+)$/;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecs-tls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function devPki(): Promise<{ dir: string; material: TlsMaterial }> {
  const dir = path.join(await tempDir(), 'pki');
  return { dir, material: await ensureDevPki(dir) };
}

interface TestServer {
  port: number;
  url: string;
  handlerCalls: () => number;
}

async function startServer(material: TlsMaterial, allowedClientCommonNames = [DEV_GATEWAY_CLIENT_CN]): Promise<TestServer> {
  let calls = 0;
  const server: https.Server = createMtlsServer(
    material,
    (_request, response) => {
      calls += 1;
      response.end('ok');
    },
    { allowedClientCommonNames },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { port, url: `https://127.0.0.1:${port}/`, handlerCalls: () => calls };
}

function track(agent: Agent): Agent {
  cleanups.push(() => agent.destroy());
  return agent;
}

/** The error code undici reports under `cause`, or the HTTP status when the request got through. */
async function outcome(url: string, agent: Agent): Promise<{ status?: number; cause?: string }> {
  try {
    const response = await fetch(url, { dispatcher: agent });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    const { cause } = error as { cause?: { code?: string } };
    return { cause: cause?.code ?? String(error) };
  }
}

/** Issues a leaf from the dev CA in `pkiDir`, for a given key or a new one. */
async function issueFromDevCa(
  pkiDir: string,
  leaf: { commonName: string; usage: x509.ExtendedKeyUsage; validForMs: number; keyPem?: string },
): Promise<{ cert: string; key: string }> {
  const crypto = webcrypto;
  const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const caCert = new x509.X509Certificate(await readFile(path.join(pkiDir, 'ca.pem'), 'utf8'));
  const caKeyDer = x509.PemConverter.decodeFirst(await readFile(path.join(pkiDir, 'ca-key.pem'), 'utf8'));
  const caKey = await crypto.subtle.importKey('pkcs8', caKeyDer, ecdsa, false, ['sign']);
  let key = leaf.keyPem;
  let publicKey: webcrypto.CryptoKey | Buffer;
  if (key) {
    publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  } else {
    const keys = await crypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
    publicKey = keys.publicKey;
    key = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  }
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${leaf.commonName}`,
      issuer: caCert.subjectName,
      publicKey,
      signingKey: caKey,
      notAfter: new Date(Date.now() + leaf.validForMs),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.ExtendedKeyUsageExtension([leaf.usage])],
    },
    crypto,
  );
  return { cert: cert.toString('pem'), key };
}

describe('development PKI', () => {
  it('is created once and then reused, with private files', async () => {
    const { dir, material } = await devPki();

    expect(await ensureDevPki(dir)).toEqual(material);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of PKI_FILES) expect((await stat(path.join(dir, file))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual([...PKI_FILES].sort());
    expect(material.serverKey).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('issues certificates with the expected names and usages', async () => {
    const { material } = await devPki();
    const ca = new X509Certificate(material.ca);
    const server = new X509Certificate(material.serverCert);
    const client = new X509Certificate(material.clientCert);

    expect(ca.subject).toBe('CN=ECS Gateway Development CA');
    expect(ca.ca).toBe(true);
    expect(server.subject).toBe('CN=ecs-subgraph');
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(client.subject).toBe(`CN=${DEV_GATEWAY_CLIENT_CN}`);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    for (const leaf of [server, client]) {
      expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.serialNumber).not.toBe(ca.serialNumber);
    }
  });

  it('agrees on one PKI when several calls race in one process', async () => {
    const dir = path.join(await tempDir(), 'pki');

    const results = await Promise.all([1, 2, 3, 4].map(() => ensureDevPki(dir)));

    for (const result of results) expect(result).toEqual(results[0]);
    expect((await readdir(dir)).sort()).toEqual([...PKI_FILES].sort());
  });

  it('agrees on one PKI when separate processes race', async () => {
    const dir = path.join(await tempDir(), 'pki');
    const script = `require('./lib/tls/dev-pki.ts').ensureDevPki(${JSON.stringify(dir)})
      .then((m) => process.stdout.write(JSON.stringify(m)))`;
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
        cwd: path.resolve(__dirname, '../..'),
      });

    const outputs = await Promise.all([run(), run(), run()]);

    const onDisk = await ensureDevPki(dir);
    for (const { stdout } of outputs) expect(JSON.parse(stdout)).toEqual(onDisk);
  }, 30_000);

  it('takes over a lock left by a process that died', async () => {
    const dir = path.join(await tempDir(), 'pki');
    const material = await ensureDevPki(dir);
    await rm(path.join(dir, 'client.pem'));
    // A lock its holder stopped refreshing 30 s ago: the holder died.
    await mkdir(path.join(dir, '.lock'));
    const past = new Date(Date.now() - 30_000);
    await utimes(path.join(dir, '.lock'), past, past);

    const repaired = await ensureDevPki(dir);

    expect(repaired.ca).toBe(material.ca);
    expect(new X509Certificate(repaired.clientCert).checkIssued(new X509Certificate(material.ca))).toBe(true);
    expect(await readdir(dir)).not.toContain('.lock');
  });

  it('waits while another holder keeps the lock fresh', async () => {
    const dir = path.join(await tempDir(), 'pki');
    await mkdir(dir, { recursive: true });
    const release = await lockfile.lock(dir, { lockfilePath: path.join(dir, '.lock'), realpath: false });
    let settled = false;
    const pending = ensureDevPki(dir).finally(() => {
      settled = true;
    });

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    await release();

    expect((await pending).ca).toContain('BEGIN CERTIFICATE');
    expect((await readdir(dir)).sort()).toEqual([...PKI_FILES].sort());
  });

  it('re-issues leaves that expire within 7 days and keeps the CA', async () => {
    const { dir, material } = await devPki();
    const caFilesBefore = await Promise.all(['ca.pem', 'ca-key.pem'].map((f) => readFile(path.join(dir, f), 'utf8')));
    const expiring = await issueFromDevCa(dir, {
      commonName: 'ecs-subgraph',
      usage: x509.ExtendedKeyUsage.serverAuth,
      validForMs: DAY_MS,
      keyPem: material.serverKey,
    });
    expect(new X509Certificate(expiring.cert).checkPrivateKey(createPrivateKey(material.serverKey))).toBe(true);
    await writeFile(path.join(dir, 'server.pem'), expiring.cert);

    const renewed = await ensureDevPki(dir);

    expect(renewed.ca).toBe(material.ca);
    expect(await Promise.all(['ca.pem', 'ca-key.pem'].map((f) => readFile(path.join(dir, f), 'utf8')))).toEqual(caFilesBefore);
    expect(renewed.serverCert).not.toBe(expiring.cert);
    expect(renewed.serverKey).not.toBe(material.serverKey);
    const server = new X509Certificate(renewed.serverCert);
    expect(Date.parse(server.validTo) - Date.now()).toBeGreaterThan(300 * DAY_MS);
    expect(server.verify(new X509Certificate(material.ca).publicKey)).toBe(true);
    expect(await readFile(path.join(dir, 'server.pem'), 'utf8')).toBe(renewed.serverCert);
    expect(await ensureDevPki(dir)).toEqual(renewed);
  });
});

describe('loadTlsMaterial', () => {
  it('reads operator files when given', async () => {
    const { dir, material } = await devPki();
    const files = {
      caFile: path.join(dir, 'ca.pem'),
      serverCertFile: path.join(dir, 'server.pem'),
      serverKeyFile: path.join(dir, 'server-key.pem'),
      clientCertFile: path.join(dir, 'client.pem'),
      clientKeyFile: path.join(dir, 'client-key.pem'),
    };
    const unusedPkiDir = path.join(await tempDir(), 'never-created');

    expect(await loadTlsMaterial({ files, pkiDir: unusedPkiDir })).toEqual(material);
    await expect(stat(unusedPkiDir)).rejects.toThrow('ENOENT');

    const missing = path.join(dir, 'missing-client.pem');
    await expect(loadTlsMaterial({ files: { ...files, clientCertFile: missing }, pkiDir: unusedPkiDir })).rejects.toThrow(missing);
  });

  it('falls back to the development PKI', async () => {
    const pkiDir = path.join(await tempDir(), 'pki');

    const material = await loadTlsMaterial({ pkiDir });

    expect(material).toEqual(await ensureDevPki(pkiDir));
  });
});

describe('mutual TLS', () => {
  it('serves the gateway through the mTLS agent, typed as Apollo fetcher', async () => {
    const { material } = await devPki();
    const server = await startServer(material);
    const fetcher: RemoteGraphQLDataSource['fetcher'] = fetchWithAgent(track(createMtlsAgent(material)));

    const first = await fetcher(server.url, { method: 'GET' });
    const second = await fetcher(server.url);

    expect([first.status, await first.text(), second.status, await second.text()]).toEqual([200, 'ok', 200, 'ok']);
    expect(server.handlerCalls()).toBe(2);
  });

  it('refuses plain HTTP on the HTTPS port', async () => {
    const { material } = await devPki();
    const server = await startServer(material);

    const result = await new Promise<{ status?: number; error?: string }>((resolve) => {
      const request = http.get({ host: '127.0.0.1', port: server.port, path: '/', timeout: 5000 }, (response) => {
        response.resume();
        resolve({ status: response.statusCode });
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });

    // Node drops the socket on OpenSSL's "http request" record error: the client sees a reset.
    expect(result).toEqual({ error: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
    expect(server.handlerCalls()).toBe(0);
  });

  it('refuses TLS without a client certificate', async () => {
    const { material } = await devPki();
    const server = await startServer(material);

    const tls13 = await outcome(server.url, track(new Agent({ connect: { ca: material.ca } })));
    const tls12 = await outcome(server.url, track(new Agent({ connect: { ca: material.ca, maxVersion: 'TLSv1.2' } })));

    expect(tls13).toEqual({ cause: expect.stringMatching(REFUSED) });
    // TLS 1.2 fails inside the handshake, so the client gets the server's alert (OpenSSL 3.0
    // under Node 20 names it SSLV3, later versions under Node 22 SSL/TLS).
    expect(tls12).toEqual({ cause: expect.stringMatching(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/) });
    expect(server.handlerCalls()).toBe(0);
  });

  it('refuses a client certificate from another CA', async () => {
    const { material } = await devPki();
    const { material: foreign } = await devPki();
    const server = await startServer(material);
    const agent = new Agent({ connect: { ca: material.ca, cert: foreign.clientCert, key: foreign.clientKey } });

    expect(await outcome(server.url, track(agent))).toEqual({ cause: expect.stringMatching(REFUSED) });
    expect(server.handlerCalls()).toBe(0);
  });

  it('refuses the subgraph server certificate as a client certificate', async () => {
    const { material } = await devPki();
    const server = await startServer(material);
    // Same CA, but its extended key usage is serverAuth only: OpenSSL rejects it (INVALID_PURPOSE).
    const agent = new Agent({ connect: { ca: material.ca, cert: material.serverCert, key: material.serverKey } });

    expect(await outcome(server.url, track(agent))).toEqual({ cause: expect.stringMatching(REFUSED) });
    expect(server.handlerCalls()).toBe(0);
  });

  it('answers 403 to a client certificate of the CA whose CN is not allowed', async () => {
    const { dir, material } = await devPki();
    const server = await startServer(material);
    const intruder = await issueFromDevCa(dir, {
      commonName: 'ecs-intruder',
      usage: x509.ExtendedKeyUsage.clientAuth,
      validForMs: DAY_MS,
    });
    const agent = track(new Agent({ connect: { ca: material.ca, cert: intruder.cert, key: intruder.key } }));

    const response = await fetch(server.url, { dispatcher: agent, method: 'POST', body: '{}' });

    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      code: FORBIDDEN_CLIENT_CERTIFICATE,
      message: 'client certificate not allowed',
    });
    expect(FORBIDDEN_CLIENT_CERTIFICATE).toBe('ECS_FORBIDDEN_CLIENT_CERTIFICATE');
    expect(server.handlerCalls()).toBe(0);
  });

  it('answers 403 to the gateway certificate when its CN is not in the list', async () => {
    const { material } = await devPki();
    const server = await startServer(material, ['some-other-client']);

    expect(await outcome(server.url, track(createMtlsAgent(material)))).toEqual({ status: 403 });
    expect(server.handlerCalls()).toBe(0);
  });
});
