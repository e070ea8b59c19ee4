import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureDevPki } from '../../lib/tls/dev-pki';

/** What a spawned client answered: its exit code (0 on success) and its output. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The path of a command-line client: `/usr/bin/<name>` (Debian's package), or else the first
 * `<name>` on PATH, a pyenv shim resolved to the real script (shims need the caller's HOME,
 * which the suites replace). Undefined where the client is not installed.
 */
export function findExecutable(name: string): string | undefined {
  const candidates = [`/usr/bin/${name}`, ...(process.env.PATH ?? '').split(':').map((dir) => path.join(dir, name))];
  const found = candidates.find((file) => file.startsWith('/') && existsSync(file));
  if (!found) return undefined;
  if (!readFileSync(found).subarray(0, 400).toString().includes('pyenv')) return found;
  try {
    return execFileSync('pyenv', ['which', name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a client to completion; a failure is returned (exit code, output), not thrown. */
export function runTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes a tree of files (relative path to content) under `root`. */
export async function writeTree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), body);
  }
}

/** Every file under `root`, relative path to content. */
export async function readTree(root: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(root, file)] = await readFile(file);
  }
  return out;
}

/**
 * An HTTPS front for the gateway's plain HTTP port, as a TLS-terminating proxy in production is:
 * requests are passed on with their headers (the Host the client signed) and streamed both ways.
 * The certificate is the development PKI's server certificate for 127.0.0.1; `caFile` is its CA.
 */
export async function startTlsFront(target: string, pkiDir: string): Promise<{ url: string; caFile: string; close(): Promise<void> }> {
  const pki = await ensureDevPki(pkiDir);
  const caFile = path.join(pkiDir, 'front-ca.pem');
  await writeFile(caFile, pki.ca);
  const upstream = new URL(target);
  const server = https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
