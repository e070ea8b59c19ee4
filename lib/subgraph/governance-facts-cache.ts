import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { PlaneClient } from './plane-client';

/** Announced by the database (a trigger, prisma/migrations/*_governance_facts_notify) when a fact changes. */
export const GOVERNANCE_FACTS_CHANNEL = 'ecs_governance_facts';

const DEFAULT_MAX_ENTRIES = 10_000;

export interface GovernanceFactsCacheOptions {
  /** How long an answer may be remembered, in ms (0: never). */
  ttlMs: number;
  /** Answers remembered at most; the oldest goes first. @default 10000 */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * What a governed action checks before it runs (the tenant's facts from the control plane,
 * the identity plane's authority decision, the policy in force), remembered per process so
 * that a hot tenant's actions do not ask two other planes each time.
 *
 * It is only trusted while the process hears every change: a change to the tables that
 * hold these facts is announced by the database when it commits, and the whole cache is
 * forgotten then. The process that made the change forgets at once, before it answers
 * (`announceGovernanceChange`); other processes when the announcement reaches them
 * (milliseconds). While the announcements may be missed (the listening connection lost,
 * until it listens again) nothing is remembered or served. Only answers that let an
 * action go ahead are remembered, and an authority decision no longer than its binding
 * is valid; refusals and failures are asked for again every time.
 */
export class GovernanceFactsCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Loads in flight, shared by concurrent misses of one key; forgotten with the entries. */
  readonly #loading = new Map<string, Promise<unknown>>();
  #generation = 0;
  #hearing = false;
  #hits = 0;
  #misses = 0;

  constructor(options: GovernanceFactsCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** Whether answers are remembered now (a lifetime above 0, and every change heard). */
  get active(): boolean {
    return this.#ttlMs > 0 && this.#hearing;
  }

  /** Answers served from memory and answers asked for, since the start. */
  get stats(): { hits: number; misses: number; entries: number } {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size };
  }

  /** Changes are heard from now on (true), or may be missed (false: forget and stop remembering). */
  setHearing(hearing: boolean): void {
    if (!hearing) this.forget();
    this.#hearing = hearing;
  }

  /** Forgets every answer, including loads still in flight (they answer their callers only). */
  forget(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#loading.clear();
  }

  /**
   * The remembered answer for `key`, or `load()`'s, remembered until the time `keepUntil`
   * returns (an epoch ms, capped by the lifetime; `undefined`: not remembered).
   */
  async remember<T>(key: string, load: () => Promise<T>, keepUntil: (value: T) => number | undefined): Promise<T> {
    if (!this.active) return load();
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > now) {
      this.#hits += 1;
      return entry.value as T;
    }
    if (entry) this.#entries.delete(key);
    const inFlight = this.#loading.get(key);
    if (inFlight) {
      this.#hits += 1;
      return inFlight as Promise<T>;
    }
    this.#misses += 1;
    const generation = this.#generation;
    const loading = load().then((value) => {
      // A change announced while this load ran may not be in its answer: not remembered.
      if (generation === this.#generation && this.active) {
        const until = keepUntil(value);
        if (until !== undefined) this.#store(key, { value, expiresAt: Math.min(until, now + this.#ttlMs) });
      }
      return value;
    });
    this.#loading.set(key, loading);
    const settled = (): void => {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    };
    loading.then(settled, settled);
    return loading;
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}

/** The caches of this process, by the database whose changes they follow. */
const cachesByDatabase = new WeakMap<Database, Set<GovernanceFactsCache>>();

/**
 * Called by the code that changed a tenant, a policy baseline or an authority binding, after
 * its transaction committed: this process's caches forget at once, so its next request sees
 * the change even before the database's announcement arrives.
 */
export function announceGovernanceChange(db: Database): void {
  for (const cache of cachesByDatabase.get(db) ?? []) cache.forget();
}

/**
 * Makes `cache` follow the changes of `db`: LISTENs on the announcement channel and trusts
 * the cache only while listening. Resolves with a function that stops.
 */
export async function followGovernanceChanges(db: Database, cache: GovernanceFactsCache, log: Logger): Promise<() => Promise<void>> {
  const caches = cachesByDatabase.get(db) ?? new Set<GovernanceFactsCache>();
  cachesByDatabase.set(db, caches);
  caches.add(cache);
  const stop = await db.listen(GOVERNANCE_FACTS_CHANNEL, {
    onNotification: () => cache.forget(),
    onLost: () => {
      cache.setHearing(false);
      log.warn('governance facts: change announcements lost; nothing is remembered until they are heard again');
    },
    onResync: () => {
      cache.forget();
      cache.setHearing(true);
    },
    onError: (error) => log.warn({ err: error }, 'governance facts: listening connection'),
  });
  cache.setHearing(true);
  return async () => {
    cache.setHearing(false);
    caches.delete(cache);
    await stop();
  };
}

/** `client` with its tenant, authority and policy answers remembered in `cache`. */
export function rememberingPlaneClient(client: PlaneClient, cache: GovernanceFactsCache): PlaneClient {
  return {
    ...client,
    tenant: (id) =>
      cache.remember(
        JSON.stringify(['tenant', id]),
        () => client.tenant(id),
        (tenant) => (tenant ? Infinity : undefined),
      ),
    decideAuthority: (bindingId, action) =>
      cache.remember(
        JSON.stringify(['authority', bindingId, action]),
        () => client.decideAuthority(bindingId, action),
        (decision) => {
          if (!decision.allowed || !decision.snapshotId || !decision.validUntil) return undefined;
          const until = Date.parse(decision.validUntil);
          return Number.isNaN(until) ? undefined : until;
        },
      ),
    currentPolicy: (baseline) =>
      cache.remember(
        JSON.stringify(['policy', baseline]),
        () => client.currentPolicy(baseline),
        (policy) => (policy ? Infinity : undefined),
      ),
  };
}
