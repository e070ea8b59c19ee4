/**
 * The link between a migrated tenant's two chains (docs/verify.md, "Two bundles"): the
 * target deployment's chain for the tenant holds a `migration.import` event naming the
 * source chain (`source_chain_id`) and the last source event that went into the export
 * package (`source_head_sequence`, `source_head_hash`). The link holds when some
 * `migration.import` of the target bundle names the source bundle's chain and the source
 * bundle holds an event at that sequence with exactly that `event_hash`. After a rollback
 * and a re-import the target chain holds several; any one that links proves the link (the
 * latest that does is reported).
 *
 * Memory stays independent of both chains' lengths: nothing is read twice and no event is
 * kept. Each bundle is verified exactly as on its own (verify-bundle.ts, one streaming pass),
 * with an observer on its event pass that keeps only what the link needs:
 *
 * - the target is verified first; `TargetImports` keeps its `migration.import` events, each
 *   reduced to the link's few fields (each field at most `MAX_FIELD_CHARS`), at most
 *   `MAX_LINK_IMPORTS` of them (a chain holds one per import attempt: a handful);
 * - the source is verified next, knowing the sequences wanted; `SourceHeads` keeps the
 *   `event_hash` of the events at those sequences (at most `MAX_LINK_IMPORTS`), and the
 *   chain id and range for the messages.
 *
 * Verifying the source first would not work as well: the sequence wanted is only known
 * from the target, and keeping every source hash would grow with the chain, while keeping
 * the last few would miss the head whenever the source went on after the export (it
 * records at least `migration.complete` after it; a bundle exported much later more).
 */
import type { JsonObject } from '../evidence/canonical-json';
import type { EventObserver, VerifyOptions, VerifyResult } from './verify-bundle';
import { verifyBundlePath } from './verify-bundle';

/** The event type of the target chain's link to the source chain. */
export const MIGRATION_IMPORT = 'migration.import';

/** `migration.import` events examined; any more are counted, not kept. */
export const MAX_LINK_IMPORTS = 1000;

/** Longest id kept from an event (chain, tenant, import, provider ids are far shorter). */
export const MAX_FIELD_CHARS = 512;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A `migration.import` of the target chain, reduced to the fields of the link. */
export interface ImportEvent {
  /** Where it stands in the target chain. */
  sequence: number | null;
  import_id: string | null;
  source_provider: string | null;
  source_tenant_id: string | null;
  source_chain_id: string | null;
  source_head_sequence: number | null;
  source_head_hash: string | null;
  package_digest: string | null;
  /** Why it cannot link whatever the source holds (a field missing or malformed). */
  malformed?: string;
}

/** An import with the outcome of its link to the source bundle. */
export interface ImportLink extends ImportEvent {
  links: boolean;
  detail: string;
}

export interface MigrationLink {
  ok: boolean;
  detail: string;
  target_chain_id: string | null;
  source_chain_id: string | null;
  /** The `migration.import` that links (the latest when several do), or `null`. */
  linked: ImportLink | null;
  /** Every `migration.import` examined, in target order. */
  imports: ImportLink[];
  /** `migration.import` events past `MAX_LINK_IMPORTS`, not examined. */
  not_examined: number;
}

/** What a bundle's events say of their chain, for the messages. */
export interface ChainView {
  chainId: string | null;
  events: number;
  firstSequence: number | null;
  lastSequence: number | null;
}

function text(event: Readonly<JsonObject>, field: string): string | null {
  const value = event[field];
  return typeof value === 'string' && value.length <= MAX_FIELD_CHARS ? value : null;
}

function sequenceOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : null;
}

/** Follows the chain id and range of the events passing by. */
class ChainWatcher {
  readonly view: ChainView = { chainId: null, events: 0, firstSequence: null, lastSequence: null };

  see(event: Readonly<JsonObject>): void {
    const { view } = this;
    view.events += 1;
    view.chainId ??= text(event, 'chain_id');
    const sequence = sequenceOf(event.sequence);
    if (sequence !== null) {
      view.firstSequence ??= sequence;
      view.lastSequence = sequence;
    }
  }
}

function reduceImport(event: Readonly<JsonObject>): ImportEvent {
  const reduced: ImportEvent = {
    sequence: sequenceOf(event.sequence),
    import_id: text(event, 'import_id'),
    source_provider: text(event, 'source_provider'),
    source_tenant_id: text(event, 'source_tenant_id'),
    source_chain_id: text(event, 'source_chain_id'),
    source_head_sequence: sequenceOf(event.source_head_sequence),
    source_head_hash: text(event, 'source_head_hash'),
    package_digest: text(event, 'package_digest'),
  };
  const problems: string[] = [];
  if (reduced.source_chain_id === null) problems.push(`source_chain_id is not a string of at most ${MAX_FIELD_CHARS} characters`);
  if (reduced.source_head_sequence === null) problems.push('source_head_sequence is not a positive integer');
  if (reduced.source_head_hash === null || !DIGEST.test(reduced.source_head_hash)) problems.push('source_head_hash is not sha256:<hex>');
  if (problems.length) reduced.malformed = problems.join('; ');
  return reduced;
}

/** Observer of the target bundle's event pass: keeps its `migration.import` events. */
export class TargetImports {
  readonly imports: ImportEvent[] = [];
  /** `migration.import` events past `MAX_LINK_IMPORTS`. */
  notExamined = 0;
  private readonly watcher = new ChainWatcher();

  get chain(): Readonly<ChainView> {
    return this.watcher.view;
  }

  readonly observe: EventObserver = (event) => {
    this.watcher.see(event);
    if (event.event_type !== MIGRATION_IMPORT) return;
    if (this.imports.length >= MAX_LINK_IMPORTS) this.notExamined += 1;
    else this.imports.push(reduceImport(event));
  };

  /** The source sequences the imports name (at most `MAX_LINK_IMPORTS`). */
  wantedSequences(): Set<number> {
    const wanted = new Set<number>();
    for (const item of this.imports) if (item.source_head_sequence !== null) wanted.add(item.source_head_sequence);
    return wanted;
  }
}

/** Observer of the source bundle's event pass: keeps the `event_hash` at the sequences wanted. */
export class SourceHeads {
  /** Sequence → `event_hash` of the first event there (`null` when it is not `sha256:<hex>`). */
  readonly hashes = new Map<number, string | null>();
  private readonly watcher = new ChainWatcher();

  constructor(private readonly wanted: ReadonlySet<number>) {}

  get chain(): Readonly<ChainView> {
    return this.watcher.view;
  }

  readonly observe: EventObserver = (event) => {
    this.watcher.see(event);
    const sequence = sequenceOf(event.sequence);
    if (sequence === null || !this.wanted.has(sequence) || this.hashes.has(sequence)) return;
    const hash = event.event_hash;
    this.hashes.set(sequence, typeof hash === 'string' && DIGEST.test(hash) ? hash : null);
  };
}

const range = (chain: Readonly<ChainView>): string =>
  chain.events === 0
    ? 'it yielded no events'
    : `it holds sequences ${String(chain.firstSequence ?? '?')}..${String(chain.lastSequence ?? '?')}`;

function describe(item: ImportEvent): string {
  return `${MIGRATION_IMPORT} ${item.import_id ?? '(no import_id)'} at target sequence ${String(item.sequence ?? '?')}`;
}

function linkOf(item: ImportEvent, source: SourceHeads, targetChain: string): ImportLink {
  const sourceChain = source.chain.chainId;
  const fail = (why: string): ImportLink => ({ ...item, links: false, detail: `${describe(item)} ${why}` });
  if (item.malformed) return fail(`cannot link: ${item.malformed}`);
  if (source.chain.events === 0) return fail('cannot be matched: the source bundle yielded no events (see its checks)');
  if (item.source_chain_id !== sourceChain)
    return fail(`names source chain ${String(item.source_chain_id)}, the source bundle's chain is ${sourceChain ?? '(none)'}`);
  const head = item.source_head_sequence!;
  if (!source.hashes.has(head))
    return fail(`records source head sequence ${head}, the source bundle holds no event there (${range(source.chain)})`);
  const hash = source.hashes.get(head);
  if (hash !== item.source_head_hash) {
    return fail(
      `records source head sequence ${head} with hash ${String(item.source_head_hash)}, the source bundle's event there has ${hash ?? 'no sha256 event_hash'}`,
    );
  }
  return {
    ...item,
    links: true,
    detail: `target ${targetChain} sequence ${String(item.sequence ?? '?')} (${MIGRATION_IMPORT} ${item.import_id ?? '(no import_id)'}) continues source ${sourceChain} at sequence ${head} (${hash})`,
  };
}

/** Shown reasons when no import links (the JSON lists them all). */
const REASONS_SHOWN = 3;

/** The link check, from what the two observers kept. */
export function checkMigrationLink(target: TargetImports, source: SourceHeads): MigrationLink {
  const targetChain = target.chain.chainId;
  const base = { target_chain_id: targetChain, source_chain_id: source.chain.chainId, not_examined: target.notExamined };
  if (target.chain.events === 0) {
    const detail = `the target bundle yielded no events to find a ${MIGRATION_IMPORT} in (see its checks)`;
    return { ok: false, detail, ...base, linked: null, imports: [] };
  }
  if (target.imports.length === 0) {
    const detail = `the target bundle's chain ${targetChain ?? '(no chain_id)'} holds no ${MIGRATION_IMPORT} event (${range(target.chain)})`;
    return { ok: false, detail, ...base, linked: null, imports: [] };
  }
  const imports = target.imports.map((item) => linkOf(item, source, targetChain ?? '(no chain_id)'));
  const linking = imports.filter((item) => item.links);
  const linked = linking.at(-1) ?? null;
  const skipped = target.notExamined ? `; ${target.notExamined} further ${MIGRATION_IMPORT} events were not examined` : '';
  if (linked) {
    const several =
      imports.length > 1 ? ` (${linking.length} of ${imports.length} ${MIGRATION_IMPORT} events link; the latest is shown)` : '';
    return { ok: true, detail: `${linked.detail}${several}`, ...base, linked, imports };
  }
  let detail: string;
  if (imports.length === 1) detail = imports[0]!.detail;
  else {
    const shown = imports.slice(0, REASONS_SHOWN).map((item) => item.detail);
    const more = imports.length > REASONS_SHOWN ? `; and ${imports.length - REASONS_SHOWN} more` : '';
    detail = `none of the ${imports.length} ${MIGRATION_IMPORT} events links to the source bundle: ${shown.join('; ')}${more}`;
  }
  return { ok: false, detail: `${detail}${skipped}`, ...base, linked: null, imports };
}

export interface MigrationVerifyOptions {
  /** Options of each bundle's own verification (their `onEvent` is the link's). */
  source: VerifyOptions;
  target: VerifyOptions;
  /** Told when a bundle's verification is over (the target's comes first). */
  onVerified?: (which: 'source' | 'target', result: VerifyResult) => void;
}

export interface MigrationVerifyResult {
  source: VerifyResult;
  target: VerifyResult;
  link: MigrationLink;
  /** Both bundles and the link pass. */
  ok: boolean;
}

/**
 * Verifies a migrated tenant's source and target bundles, each exactly as on its own, and
 * the link between their chains: the target first (its `migration.import` events name the
 * source sequences to keep), then the source. The link is checked even when a bundle fails
 * its own checks (with what could be read); the verdict needs all three.
 */
export async function verifyMigrationBundles(
  sourcePath: string,
  targetPath: string,
  options: MigrationVerifyOptions,
): Promise<MigrationVerifyResult> {
  const imports = new TargetImports();
  const target = await verifyBundlePath(targetPath, { ...options.target, onEvent: imports.observe });
  options.onVerified?.('target', target);
  const heads = new SourceHeads(imports.wantedSequences());
  const source = await verifyBundlePath(sourcePath, { ...options.source, onEvent: heads.observe });
  options.onVerified?.('source', source);
  const link = checkMigrationLink(imports, heads);
  return { source, target, link, ok: source.ok && target.ok && link.ok };
}
