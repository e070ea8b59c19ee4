// A real OpenID Provider (`oidc-provider`) on 127.0.0.1 that issues JWT access tokens to the
// client `ecs-test-client` with the client credentials grant, for tests of token verification.
//
// oidc-provider is ESM-only and jest's module loader cannot require() it untransformed, so the
// provider runs in a child process: this same file, started with tsx and a flag. The parent
// reads the issuer from the child's first stdout line, then talks to it over HTTP only. The
// child exits when its stdin closes, so it never outlives the test process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export const OIDC_CLIENT_ID = 'ecs-test-client';
/** The audience (`aud`) of the access tokens. */
export const OIDC_AUDIENCE = 'ecs-gateway';
/** The resource indicator (RFC 8707) that maps to that audience; the provider's default resource. */
export const OIDC_RESOURCE = 'urn:ecs-gateway:api';
/** The scope of that resource server. */
export const OIDC_SCOPE = 'ecs';

const CHILD_FLAG = '--ecs-oidc-server-child';
const CONFIG_VARIABLE = 'ECS_OIDC_SERVER_CONFIG';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface OidcServerOptions {
  /** Added to every access token as the `roles` claim (via `extraTokenClaims`). */
  roles?: string[];
  /** Added to every access token as the `tenant_id` claim. */
  tenantId?: string;
}

export interface OidcServer {
  /** The provider's issuer identifier (`http://127.0.0.1:<port>`), as in its discovery document. */
  issuer: string;
  /** `jwks_uri` from the discovery document. */
  jwksUri: string;
  /** A fresh access token (RS256, `typ: at+jwt`) from a client credentials request. */
  getToken(): Promise<string>;
  stop(): Promise<void>;
}

interface ChildConfig extends OidcServerOptions {
  clientSecret: string;
}

interface Discovery {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
}

export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const clientSecret = randomBytes(32).toString('base64url');
  const config: ChildConfig = { clientSecret, ...options };
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), __filename, CHILD_FLAG], {
    env: { ...process.env, [CONFIG_VARIABLE]: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function stop(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  try {
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`oidc-provider did not start in time:\n${stderr}`)), START_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        clearTimeout(timer);
        lines.close();
        try {
          resolve((JSON.parse(line) as { issuer: string }).issuer);
        } catch {
          reject(new Error(`oidc-provider child wrote ${JSON.stringify(line)}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`oidc-provider exited (${code ?? signal}) before it was ready:\n${stderr}`));
      });
    });
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (response.status !== 200) throw new Error(`oidc-provider discovery answered ${response.status}`);
    const discovery = (await response.json()) as Discovery;
    if (discovery.issuer !== issuer) throw new Error(`oidc-provider discovery names issuer ${discovery.issuer}`);
    return {
      issuer,
      jwksUri: discovery.jwks_uri,
      getToken: async () => {
        const answer = await fetch(discovery.token_endpoint, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${OIDC_CLIENT_ID}:${clientSecret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', resource: OIDC_RESOURCE, scope: OIDC_SCOPE }),
        });
        const body = (await answer.json()) as { access_token?: string; token_type?: string };
        if (answer.status !== 200 || typeof body.access_token !== 'string') {
          throw new Error(`token endpoint answered ${answer.status}: ${JSON.stringify(body)}`);
        }
        return body.access_token;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The child: the provider itself, configured for client credentials and JWT access tokens. */
async function runChild(): Promise<void> {
  const config = JSON.parse(process.env[CONFIG_VARIABLE] ?? '') as ChildConfig;
  const { default: Provider, errors } = await import('oidc-provider');
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'ecs-test-rs256', alg: 'RS256', use: 'sig' };

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const extraClaims: Record<string, unknown> = {
    ...(config.roles === undefined ? {} : { roles: config.roles }),
    ...(config.tenantId === undefined ? {} : { tenant_id: config.tenantId }),
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: config.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    ttl: { ClientCredentials: 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => OIDC_RESOURCE,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== OIDC_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: OIDC_SCOPE,
            audience: OIDC_AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 300,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Merged into the JWT access token's claims (the provider's own claims win on conflict).
    extraTokenClaims: () => (Object.keys(extraClaims).length === 0 ? undefined : extraClaims),
  });
  server.on('request', provider.callback());

  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 2_000).unref();
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.stdin.on('end', shutdown).on('error', shutdown).resume();
  process.on('SIGTERM', shutdown);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
}

if (require.main === module && process.argv.includes(CHILD_FLAG)) {
  runChild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
