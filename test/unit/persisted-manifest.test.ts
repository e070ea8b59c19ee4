import { createHash } from 'node:crypto';
import { ManifestError, PersistedManifest, persistedQueryCache } from '../../gateway/persisted-manifest';
import type { SharedDocuments } from '../../gateway/persisted-manifest';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const QUERY = 'query A($id: ID!) { tenant(id: $id) { id } }';
const SUBSCRIPTION = 'subscription B { auditEvents { id } }';

describe('persisted-operation manifest', () => {
  it("reads Apollo's manifest format and an id-to-document map, and knows listed texts byte for byte", () => {
    const apollo = PersistedManifest.fromJson({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(QUERY), name: 'A', type: 'query', body: QUERY },
        { id: 'b', name: 'B', type: 'subscription', body: SUBSCRIPTION },
      ],
    });
    const map = PersistedManifest.fromJson({ [sha256(QUERY)]: QUERY, b: SUBSCRIPTION });
    for (const manifest of [apollo, map]) {
      expect([manifest.size, manifest.body(sha256(QUERY)), manifest.body('b'), manifest.body('c')]).toEqual([
        2,
        QUERY,
        SUBSCRIPTION,
        undefined,
      ]);
      expect([manifest.lists(QUERY), manifest.lists(`${QUERY} `), manifest.lists(SUBSCRIPTION), manifest.lists('{ __typename }')]).toEqual([
        true,
        false,
        true,
        false,
      ]);
    }
  });

  it.each([
    [{ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }, /version/],
    [{ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'a' }] }, /operations\.0\.body/],
    [{ 'bad id with spaces': QUERY }, /an operation id is/],
    [{ a: '' }, /a: /],
    [{ a: 'query { tenant(id: "x") { id ' }, /operation a: Syntax Error/],
    [{ a: 'fragment F on Tenant { id }' }, /operation a: the document holds no operation/],
    [
      { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'a', type: 'query', body: SUBSCRIPTION }] },
      /operation a: declared query/,
    ],
    [
      {
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [
          { id: 'a', body: QUERY },
          { id: 'a', body: SUBSCRIPTION },
        ],
      },
      /operation id a is listed twice/,
    ],
    [[QUERY], /expected record|expected object/i],
  ])('refuses a broken manifest, naming the problem (%#)', (json, message) => {
    expect(() => PersistedManifest.fromJson(json)).toThrow(ManifestError);
    expect(() => PersistedManifest.fromJson(json)).toThrow(message);
  });

  it('names the file and its JSON error', () => {
    expect(() => PersistedManifest.fromFile('/nonexistent/operations.json')).toThrow(/\/nonexistent\/operations\.json: ENOENT/);
  });
});

describe('the store of automatic persisted queries', () => {
  const manifest = PersistedManifest.fromJson({ listed: QUERY });

  it('answers listed ids under Apollo’s key prefix and keeps registrations, least recently used out first, bounded by length', async () => {
    const cache = persistedQueryCache({ manifest, registration: true, maxChars: 30 });
    expect(await cache.get('apq:listed')).toBe(QUERY);
    await cache.set('apq:one', 'x'.repeat(10));
    await cache.set('apq:two', 'y'.repeat(10));
    await cache.get('apq:one');
    await cache.set('apq:three', 'z'.repeat(15));
    // 35 characters would exceed 30: "two", the least recently used, goes.
    expect([await cache.get('apq:one'), await cache.get('apq:two'), await cache.get('apq:three')]).toEqual([
      'x'.repeat(10),
      undefined,
      'z'.repeat(15),
    ]);
    await cache.set('apq:huge', 'h'.repeat(31));
    expect(await cache.get('apq:huge')).toBeUndefined();
    expect(await cache.delete('apq:one')).toBe(true);
    expect(await cache.get('apq:one')).toBeUndefined();
  });

  it('registers nothing when registration is off (the safelist), and a registration never shadows a listed id', async () => {
    const safelist = persistedQueryCache({ manifest, registration: false });
    await safelist.set('apq:new', '{ __typename }');
    expect(await safelist.get('apq:new')).toBeUndefined();
    const open = persistedQueryCache({ manifest, registration: true });
    await open.set('apq:listed', '{ __typename }');
    expect(await open.get('apq:listed')).toBe(QUERY);
  });

  /** A store other replicas share (Redis in a deployment), as a map. */
  function sharedMap(): SharedDocuments & { entries: Map<string, string> } {
    const entries = new Map<string, string>();
    return {
      entries,
      get: async (id) => entries.get(id),
      set: async (id, body) => {
        entries.set(id, body);
      },
    };
  }
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');

  it('shares registrations: one replica registers, another finds the document by its hash', async () => {
    const shared = sharedMap();
    const first = persistedQueryCache({ manifest, registration: true });
    const second = persistedQueryCache({ manifest, registration: true });
    first.shareThrough(shared);
    second.shareThrough(shared);
    const text = '{ tenants { items { id } } }';
    await first.set(`apq:${digest(text)}`, text);
    expect(shared.entries.get(digest(text))).toBe(text);
    expect(await second.get(`apq:${digest(text)}`)).toBe(text);
    // Kept locally from then on: the shared store is not asked again.
    shared.entries.clear();
    expect(await second.get(`apq:${digest(text)}`)).toBe(text);
  });

  it('uses a shared document only when its SHA-256 is the id asked for, and shares nothing under the safelist', async () => {
    const shared = sharedMap();
    const cache = persistedQueryCache({ manifest, registration: true });
    cache.shareThrough(shared);
    const asked = digest('{ __typename }');
    shared.entries.set(asked, 'mutation { deleteEverything }');
    expect(await cache.get(`apq:${asked}`)).toBeUndefined();
    const safelist = persistedQueryCache({ manifest, registration: false });
    safelist.shareThrough(shared);
    shared.entries.set(asked, '{ __typename }');
    expect(await safelist.get(`apq:${asked}`)).toBeUndefined();
    await safelist.set(`apq:${digest('{ a }')}`, '{ a }');
    expect(shared.entries.has(digest('{ a }'))).toBe(false);
  });
});
