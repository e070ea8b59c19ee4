import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import type { TestStack } from './test-stack';

const ECS = path.resolve(__dirname, '..', '..', 'bin', 'ecs.js');

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** One REST call with a bearer token; the body parsed as JSON ({} when there is none). */
export async function rest(
  env: Pick<TestStack, 'url'>,
  token: string | undefined,
  method: 'GET' | 'POST',
  urlPath: string,
  body?: unknown,
): Promise<JsonResponse> {
  const response = await request(`${env.url}${urlPath}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { text };
  }
  return { status: response.statusCode, headers: response.headers, json };
}

/** Polls `GET /v1/exports/{id}` until the export is completed or failed. */
export async function waitForExport(
  env: Pick<TestStack, 'url'>,
  token: string,
  id: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await rest(env, token, 'GET', `/v1/exports/${id}`);
    if (status !== 200) throw new Error(`GET /v1/exports/${id}: ${status} ${JSON.stringify(json)}`);
    if (json.state === 'completed' || json.state === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`export ${id} still ${String(json.state)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Requests an export, waits for it, and returns its final status body. */
export async function exportAndWait(
  env: Pick<TestStack, 'url'>,
  token: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const created = await rest(env, token, 'POST', '/v1/exports', body);
  if (created.status !== 202) throw new Error(`POST /v1/exports: ${created.status} ${JSON.stringify(created.json)}`);
  return waitForExport(env, token, String(created.json.id));
}

/** Downloads a bundle to `file`; returns the status and headers (an error body is saved too). */
export async function downloadBundle(
  env: Pick<TestStack, 'url'>,
  token: string,
  id: string,
  file: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const response = await request(`${env.url}/v1/exports/${id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
  await pipeline(response.body, createWriteStream(file));
  return { status: response.statusCode, headers: response.headers };
}

/** The service's published keys, saved for `--jwks`. */
export async function saveJwks(env: Pick<TestStack, 'url'>, file: string): Promise<string> {
  const response = await fetch(`${env.url}/.well-known/jwks.json`);
  await writeFile(file, await response.text());
  return file;
}

/** `node bin/ecs.js <args>` as a real child process. */
export function ecs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return ecsWithEnv({}, ...args);
}

/** `node bin/ecs.js <args>` as a real child process, with these variables added to its environment. */
export function ecsWithEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } };
    execFile(process.execPath, [ECS, ...args], options, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
