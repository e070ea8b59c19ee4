// What the `ecs tenant` commands share: the gateway URL and token options, and how a
// refused request is reported.
import type { CommandSpec } from './args';
import { UsageError } from './usage-error';

export const URL_OPTION = {
  type: 'string',
  valueName: 'gateway-url',
  description: 'required: the gateway, e.g. https://ecs.example.eu',
} as const;

export const TOKEN_OPTION = { type: 'string', valueName: 'token', description: 'the bearer token (default: ECS_TOKEN)' } as const;

/** The bearer token: `--token`, else the environment variable `name`, else a usage error naming both. */
export function tokenFrom(given: string | undefined, name: string): string {
  const value = given ?? process.env[name]?.trim();
  if (!value) throw new UsageError(`--token or ${name} must hold the bearer token`);
  return value;
}

/** A required string option, or a usage error naming it. */
export function required(parsed: { strings: Map<string, string> }, name: string, spec: CommandSpec): string {
  const value = parsed.strings.get(name);
  if (value === undefined) throw new UsageError(`--${name} is required (see ecs ${spec.name} --help)`);
  return value;
}

export function gatewayUrl(value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // Reported below.
  }
  throw new UsageError(`"${value}" is not an http(s) URL of a gateway`);
}

/** What `refused` and the report reader need of an answer (fetch's and undici's alike). */
export interface Answer {
  status: number;
  json(): Promise<unknown>;
}

/** A refused request: the gateway's error code and message on stderr. */
export async function refused(response: Answer, what: string): Promise<number> {
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string; evidence_pointer?: string };
  const pointer = body.evidence_pointer ? ` (evidence ${body.evidence_pointer})` : '';
  console.error(`${what}: ${response.status} ${body.code ?? ''} ${body.message ?? ''}${pointer}`.replace(/ +/g, ' '));
  return 1;
}
