// REST-over-GraphQL overhead: requests/s of `GET /v1/tenants/{id}` against the same read as
// a GraphQL query (`POST /graphql`), against the same in-process stack in the same run,
// alternating rounds so background load hits both alike.
//
//   npx tsx bench/rest-overhead.ts [--seconds=5] [--rounds=3] [--concurrency=20]
import { Agent, request } from 'undici';
import { loadDevIssuer } from '../lib/auth/dev-issuer';
import { createLogger } from '../lib/logger';
import { startStack } from '../app/stack';
import { makeTempDir } from '../testkit/temp-dir';
import { testConfig } from '../testkit/test-config';
import { fmt, table } from './support/report';
import { runMain } from './support/run-main';
import { positiveIntegerOption } from './support/options';

async function measure(seconds: number, concurrency: number, call: () => Promise<number>): Promise<{ rps: number; errors: number }> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const status = await call();
      if (status === 200) done += 1;
      else errors += 1;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: done / ((Date.now() - started) / 1000), errors };
}

runMain(async () => {
  const seconds = positiveIntegerOption('seconds', 5);
  const rounds = positiveIntegerOption('rounds', 3);
  const concurrency = positiveIntegerOption('concurrency', 20);
  const dir = await makeTempDir('ecs-bench-rest-');
  const config = testConfig({
    dataDir: dir.path,
    env: { RATE_LIMIT_PER_MINUTE: '100000000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000000' },
  });
  const stack = await startStack(config, createLogger({ level: 'silent' }));
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  try {
    const issuer = await loadDevIssuer(config.devIssuer.keyFile);
    const token = await issuer.mint({ subject: 'bench', roles: ['platform-admin'], audience: config.oidc.audience, ttlSeconds: 3600 });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = stack.gateway.url;
    const create = await request(`${base}/v1/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        id: 'bench-tenant',
        authority_binding: 'auth-dev-001',
        jurisdiction: 'DE',
        policy_baseline: 'ecs-baseline-v1',
      }),
      dispatcher: agent,
    });
    if (create.statusCode !== 201) throw new Error(`tenant not created: ${create.statusCode} ${await create.body.text()}`);
    await create.body.dump();
    const query = JSON.stringify({
      query:
        'query($id: ID!) { tenant(id: $id) { id authorityBinding jurisdiction classificationCeiling policyBaseline status createdAt updatedAt } }',
      variables: { id: 'bench-tenant' },
    });
    const rest = async () => {
      const response = await request(`${base}/v1/tenants/bench-tenant`, { headers, dispatcher: agent });
      await response.body.dump();
      return response.statusCode;
    };
    const graphql = async () => {
      const response = await request(`${base}/graphql`, { method: 'POST', headers, body: query, dispatcher: agent });
      await response.body.dump();
      return response.statusCode;
    };
    await measure(2, concurrency, rest);
    await measure(2, concurrency, graphql);
    const results: Record<'rest' | 'graphql', number[]> = { rest: [], graphql: [] };
    let errors = 0;
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, call] of [
        ['graphql', graphql],
        ['rest', rest],
      ] as const) {
        const result = await measure(seconds, concurrency, call);
        results[name].push(result.rps);
        errors += result.errors;
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const graphqlRps = median(results.graphql);
    const restRps = median(results.rest);
    console.log(
      `REST over GraphQL, ${concurrency} concurrent clients, ${rounds} rounds of ${seconds} s each (median), PGlite, one process:`,
    );
    console.log(
      table(
        ['request', 'req/s (median)', 'rounds', 'vs GraphQL'],
        [
          ['POST /graphql  tenant(id)', fmt(graphqlRps), results.graphql.map((value) => fmt(value)).join(' / '), '1.00x'],
          ['GET /v1/tenants/{id}', fmt(restRps), results.rest.map((value) => fmt(value)).join(' / '), `${fmt(restRps / graphqlRps, 2)}x`],
        ],
      ),
    );
    if (errors > 0) throw new Error(`${errors} requests failed`);
  } finally {
    await agent.close();
    await stack.stop();
    await dir.remove();
  }
});
