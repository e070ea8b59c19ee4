// `ecs tenant activate | complete | rollback`: the cutover steps of a tenant migration
// (docs/migration.md) against a running gateway. Each step is idempotent on the gateway, so a
// command that failed half-way (a lost connection) is simply run again.
import { type CommandSpec, commandHelp, parseCommand } from './args';
import { type Answer, TOKEN_OPTION, URL_OPTION, gatewayUrl, refused, required, tokenFrom } from './gateway-request';
import { UsageError } from './usage-error';

const JSON_OPTION = { type: 'boolean', description: 'print the answer as JSON' } as const;

export const TENANT_ACTIVATE_SPEC: CommandSpec = {
  name: 'tenant activate',
  summary: "activate an imported tenant on the target (its workloads under the target's policy, the tenant active)",
  positionals: [],
  options: {
    url: URL_OPTION,
    token: TOKEN_OPTION,
    import: { type: 'string', valueName: 'id', description: 'required: the import (mim-...), as ecs tenant import printed it' },
    json: JSON_OPTION,
  },
  notes: [
    'ECS_TOKEN (or --token): a platform administrator of the target.',
    'Workloads the target refuses are listed with their evidence; the tenant is activated without them.',
    'exit codes: 0 active, 1 refused by the gateway, 2 wrong command line or no token',
  ],
};

export const TENANT_COMPLETE_SPEC: CommandSpec = {
  name: 'tenant complete',
  summary: 'complete a migration on the source: the tenant becomes migrated (read-only here, writes refused with a pointer to the target)',
  positionals: [],
  options: {
    url: URL_OPTION,
    token: TOKEN_OPTION,
    export: { type: 'string', valueName: 'id', description: 'required: the export (mex-...), as ecs tenant export printed it' },
    'migrated-to': {
      type: 'string',
      valueName: 'url',
      description: 'required: the tenant on the target, e.g. https://target.example.eu/v1/tenants/acme',
    },
    json: JSON_OPTION,
  },
  notes: [
    "ECS_TOKEN (or --token): a platform administrator of the source, or the tenant's administrator.",
    'exit codes: 0 completed, 1 refused by the gateway, 2 wrong command line or no token',
  ],
};

export const TENANT_ROLLBACK_SPEC: CommandSpec = {
  name: 'tenant rollback',
  summary: 'roll a migration back before completion: on the target (--import, the import discarded) or on the source (--export)',
  positionals: [],
  options: {
    url: URL_OPTION,
    token: TOKEN_OPTION,
    import: { type: 'string', valueName: 'id', description: 'the import to discard on this target (mim-...)' },
    export: { type: 'string', valueName: 'id', description: 'or the export to roll back on this source (mex-...)' },
    reason: { type: 'string', valueName: 'text', description: 'why, recorded in the migration.rollback event (at most 500 characters)' },
    json: JSON_OPTION,
  },
  notes: ['exit codes: 0 rolled back, 1 refused by the gateway, 2 wrong command line or no token'],
};

/** POSTs `body` to `path` of the gateway with the bearer token; prints the answer; 0 on success. */
async function post(
  parsed: { strings: Map<string, string>; flags: Map<string, boolean> },
  spec: CommandSpec,
  path: string,
  body: Record<string, string> | undefined,
  summary: (answer: Record<string, unknown>) => string[],
): Promise<number> {
  const base = gatewayUrl(required(parsed, 'url', spec));
  const token = tokenFrom(parsed.strings.get('token'), 'ECS_TOKEN');
  const response: Answer = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status !== 200) return refused(response, `${spec.name} refused`);
  const answer = (await response.json()) as Record<string, unknown>;
  if (parsed.flags.get('json')) console.log(JSON.stringify(answer, null, 2));
  else for (const line of summary(answer)) console.log(line);
  return 0;
}

const ID = /^[a-z]{3}-[0-9a-f-]{36}$/;

function idOption(parsed: { strings: Map<string, string> }, name: 'import' | 'export', spec: CommandSpec): string {
  const id = required(parsed, name, spec);
  if (!ID.test(id)) throw new UsageError(`--${name} "${id}" is not an ${name} id (${name === 'import' ? 'mim' : 'mex'}-<uuid>)`);
  return id;
}

export async function tenantActivate(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TENANT_ACTIVATE_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TENANT_ACTIVATE_SPEC));
    return 0;
  }
  const id = idOption(parsed, 'import', TENANT_ACTIVATE_SPEC);
  return post(parsed, TENANT_ACTIVATE_SPEC, `/v1/migrations/imports/${id}/activate`, undefined, (report) => {
    const refusedWorkloads =
      (report.workloads_refused as Array<{ workload_id: string; reason_code: string; evidence_pointer: string }>) ?? [];
    return [
      `${id}: ${String(report.status)} (tenant ${String(report.tenant_id)})`,
      ...refusedWorkloads.map(
        (workload) => `  refused  ${workload.workload_id}: ${workload.reason_code} (evidence ${workload.evidence_pointer})`,
      ),
      `evidence: ${String(report.activation_evidence_pointer)}`,
    ];
  });
}

export async function tenantComplete(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TENANT_COMPLETE_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TENANT_COMPLETE_SPEC));
    return 0;
  }
  const id = idOption(parsed, 'export', TENANT_COMPLETE_SPEC);
  const migratedTo = required(parsed, 'migrated-to', TENANT_COMPLETE_SPEC);
  return post(parsed, TENANT_COMPLETE_SPEC, `/v1/migrations/exports/${id}/complete`, { migrated_to: migratedTo }, (job) => [
    `${id}: tenant ${String(job.tenant_id)} migrated to ${String(job.migrated_to)}`,
    `evidence: ${String(job.cutover_evidence_pointer)}`,
  ]);
}

export async function tenantRollback(args: readonly string[]): Promise<number> {
  const parsed = parseCommand(TENANT_ROLLBACK_SPEC, args);
  if (!parsed) {
    console.log(commandHelp(TENANT_ROLLBACK_SPEC));
    return 0;
  }
  const onTarget = parsed.strings.has('import');
  if (onTarget === parsed.strings.has('export')) throw new UsageError('give one of --import (on the target) and --export (on the source)');
  const id = onTarget ? idOption(parsed, 'import', TENANT_ROLLBACK_SPEC) : idOption(parsed, 'export', TENANT_ROLLBACK_SPEC);
  const reason = parsed.strings.get('reason');
  const path = onTarget ? `/v1/migrations/imports/${id}/rollback` : `/v1/migrations/exports/${id}/rollback`;
  return post(parsed, TENANT_ROLLBACK_SPEC, path, reason === undefined ? {} : { reason }, (answer) => [
    `${id}: rolled back`,
    `evidence: ${String(answer.rollback_evidence_pointer ?? answer.cutover_evidence_pointer)}`,
  ]);
}
