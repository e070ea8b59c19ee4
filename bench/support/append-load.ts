// Writers of the ledger benchmarks: the two ways the planes append, sequential writers that
// run until a deadline, and the check that a chain holds exactly the events committed.
import type { Database } from '../../lib/db/database';
import { appendEvidence, evidenceTransaction, recordEvidence } from '../../lib/evidence/ledger';
import { verifyChain } from '../../subgraphs/audit/data/chain';
import { now } from './report';
import { yieldToEventLoop } from './run-main';
import { workloadAdmission } from './workload-admission';

/**
 * `own statement`: `recordEvidence`, as refusals and object reads append (grouped with the
 * appends that pile up on the chain). `in a transaction`: `evidenceTransaction` +
 * `appendEvidence`, as governed changes (workload creation) append.
 */
export type AppendMode = 'own statement' | 'in a transaction';
export const APPEND_MODES: AppendMode[] = ['own statement', 'in a transaction'];

export type Append = (tenant: string) => Promise<unknown>;

/** Appends one `workload.admit` event to `tenant`'s chain the way of `mode`. */
export function appender(db: Database, mode: AppendMode): Append {
  let n = 0;
  if (mode === 'own statement') return (tenant) => recordEvidence(db, [workloadAdmission(tenant, n++)]);
  return (tenant) => {
    const input = workloadAdmission(tenant, n++);
    return evidenceTransaction(db, tenant, (tx) => appendEvidence(tx, input));
  };
}

/** Events committed per tenant (what its chain must hold), latencies (ms) and failures. */
export interface Tally {
  committed: Map<string, number>;
  latencies: number[];
  errors: string[];
}

export const newTally = (): Tally => ({ committed: new Map(), latencies: [], errors: [] });

/** A writer stops after this many failed appends. */
const MAX_ERRORS = 100;

/**
 * One append, counted in `tally`; `timed: false` for warm-up appends (committed, no latency).
 * The latency starts before a turn of the event loop: on PGlite a transaction otherwise
 * runs to its end in microtasks, so timers, I/O and the other writers get in first, and
 * the wait for that turn counts.
 */
export async function appendOnce(append: Append, tenant: string, tally: Tally, timed = true): Promise<void> {
  const started = now();
  try {
    await yieldToEventLoop();
    await append(tenant);
    tally.committed.set(tenant, (tally.committed.get(tenant) ?? 0) + 1);
    if (timed) tally.latencies.push(now() - started);
  } catch (error) {
    tally.errors.push(`${timed ? '' : '(warm-up) '}${tenant}: ${describeError(error)}`);
  }
}

/** A sequential writer: appends to `tenant`, one after the other, until `deadline` (`now()` ms). */
export async function writeUntil(deadline: number, append: Append, tenant: string, tally: Tally): Promise<void> {
  const errorsBefore = tally.errors.length;
  while (now() < deadline && tally.errors.length - errorsBefore < MAX_ERRORS) await appendOnce(append, tenant, tally);
}

/** An error on one line, with its code (`ECS_...`, Prisma's `P2028`) first. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = String((error as Error | undefined)?.message ?? error)
    .replace(/\s+/g, ' ')
    .slice(0, 300);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/**
 * Verifies each tenant's chain from the event after the last verified one (anchored on it,
 * so successive calls cover the whole chain once) and checks that the chain and its head
 * hold exactly the events of `tally`. Returns the events checked and what was wrong.
 */
export async function verifyCommitted(
  db: Database,
  tenants: string[],
  tally: Tally,
  verified: Map<string, number>,
): Promise<{ checked: number; failures: string[] }> {
  let checked = 0;
  const failures: string[] = [];
  for (const tenant of new Set(tenants)) {
    const expected = tally.committed.get(tenant) ?? 0;
    const fromSequence = (verified.get(tenant) ?? 0) + 1;
    const result = await verifyChain({ db, tenantId: tenant, fromSequence });
    const head = await db.prisma.chainHead.findFirst({ where: { tenantId: tenant } });
    checked += result.checked;
    if (
      result.valid &&
      result.checked === expected - fromSequence + 1 &&
      result.toSequence === expected &&
      (head?.sequence ?? 0) === expected
    ) {
      verified.set(tenant, expected);
    } else {
      failures.push(
        `chain of ${tenant} is NOT valid or incomplete: ${JSON.stringify({ ...result, expectedEvents: expected, headSequence: head?.sequence })}`,
      );
    }
  }
  return { checked, failures };
}
