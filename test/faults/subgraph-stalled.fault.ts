import { PLANES } from '../../lib/config/config';
import type { Plane } from '../../lib/config/config';
import {
  adminHeaders,
  freePorts,
  killAllServerProcesses,
  postGraphQL,
  signalProcessTree,
  startServerProcess,
} from '../../testkit/spawn-server';
import type { StartedServer } from '../../testkit/spawn-server';
import { makeTempDir } from '../../testkit/temp-dir';
import { createPostgresDatabase } from '../../testkit/test-database';
import { CREATE_TENANT, CREATE_WORKLOAD, PINNED_IMAGE, tenantInput, uniqueId } from '../support/test-stack';

/**
 * Checklist 61, the slow half: the control plane hangs (SIGSTOP: it accepts connections
 * and never answers). The gateway answers within its timeout with an error naming the
 * plane; a governed action that needs the control plane (admission asks it for the tenant)
 * fails closed with refusal evidence; after SIGCONT everything works again. Gateway and
 * planes are separate processes on PostgreSQL.
 */
jest.setTimeout(240_000);

const GATEWAY_TIMEOUT_MS = 8_000;
const PLANE_TIMEOUT_MS = 2_000;

describe('checklist 61: a stalled subgraph', () => {
  let dataDir: { path: string; remove(): Promise<void> };
  let database: { databaseUrl: string; drop(): Promise<void> };
  const subgraphs = new Map<Plane, StartedServer>();
  let gateway: StartedServer;

  beforeAll(async () => {
    dataDir = await makeTempDir('ecs-fault-stall-');
    database = await createPostgresDatabase();
    const ports = await freePorts(PLANES.length);
    const urls = PLANES.map((plane, index) => `${plane}=https://127.0.0.1:${ports[index]}/graphql`).join(',');
    const env = (extra: Record<string, string>) => ({
      DATA_DIR: dataDir.path,
      DATABASE_URL: database.databaseUrl,
      SUBGRAPH_URLS: urls,
      ...extra,
    });
    const [first, ...rest] = PLANES;
    const start = async (plane: Plane) => {
      subgraphs.set(
        plane,
        await startServerProcess({
          args: ['subgraph', plane],
          env: env({ SUBGRAPH_PORT: String(ports[PLANES.indexOf(plane)]), SUBGRAPH_TIMEOUT_MS: String(PLANE_TIMEOUT_MS) }),
        }),
      );
    };
    await start(first);
    await Promise.all(rest.map(start));
    gateway = await startServerProcess({ args: ['gateway'], env: env({ SUBGRAPH_TIMEOUT_MS: String(GATEWAY_TIMEOUT_MS) }) });
  }, 180_000);
  afterAll(async () => {
    const control = subgraphs.get('control');
    if (control) signalProcessTree(control, 'SIGCONT');
    await killAllServerProcesses();
    await database?.drop();
    await dataDir?.remove();
  });

  it('checklist 61: answers within the timeout naming the plane, refuses governed actions with evidence, recovers on SIGCONT', async () => {
    const headers = await adminHeaders(dataDir.path);
    const tenantId = uniqueId('stall');
    expect((await postGraphQL(gateway.origin, CREATE_TENANT, { input: tenantInput(tenantId) }, headers)).body.errors).toBeUndefined();

    signalProcessTree(subgraphs.get('control')!, 'SIGSTOP');
    try {
      let started = Date.now();
      const read = await postGraphQL<{ tenant: unknown }>(
        gateway.origin,
        'query($id: ID!) { tenant(id: $id) { id status } }',
        { id: tenantId },
        headers,
      );
      const readMs = Date.now() - started;
      expect(readMs).toBeLessThan(GATEWAY_TIMEOUT_MS + 4_000);
      const error = read.body.errors?.[0];
      expect(error?.extensions).toMatchObject({ code: 'ECS_DEPENDENCY_UNAVAILABLE' });
      expect(JSON.stringify(read.body.errors)).toMatch(/control/);

      started = Date.now();
      const admit = await postGraphQL(
        gateway.origin,
        CREATE_WORKLOAD,
        { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } },
        headers,
      );
      expect(Date.now() - started).toBeLessThan(GATEWAY_TIMEOUT_MS + 4_000);
      expect(admit.body.errors?.[0]?.extensions).toMatchObject({
        code: 'ECS_DEPENDENCY_UNAVAILABLE',
        evidence_pointer: expect.stringMatching(/^eosc:\/\/evidence\/sha256:/),
      });

      // The refusal is in the tenant's chain (the audit plane is up).
      const events = await postGraphQL<{
        events: {
          items: Array<{
            eventType: string;
            outcome: string;
            refusalReasonClass: string;
            refusalReasonCode: string;
            evidencePointer: string;
          }>;
        };
      }>(
        gateway.origin,
        'query($f: EventFilter) { events(filter: $f, first: 100) { items { eventType outcome refusalReasonClass refusalReasonCode evidencePointer } } }',
        { f: { tenantId } },
        headers,
      );
      expect(events.body.data!.events.items.at(-1)).toMatchObject({
        outcome: 'refused',
        refusalReasonClass: 'dependency_unavailable_fail_closed',
        refusalReasonCode: 'control_plane_unavailable',
        evidencePointer: admit.body.errors![0]!.extensions!.evidence_pointer,
      });
    } finally {
      signalProcessTree(subgraphs.get('control')!, 'SIGCONT');
    }
    const deadline = Date.now() + 30_000;
    let admitted = false;
    while (!admitted && Date.now() < deadline) {
      const again = await postGraphQL(
        gateway.origin,
        CREATE_WORKLOAD,
        { input: { tenantId, envelopeType: 'container', imageRef: PINNED_IMAGE, jurisdiction: 'DE' } },
        headers,
      );
      admitted = again.body.errors === undefined;
      if (!admitted) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(admitted).toBe(true);
  });
});
