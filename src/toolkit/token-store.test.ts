import { randomBytes } from 'node:crypto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { caveat, decodeMacaroon, mintMacaroon } from '../l402/index.ts';
import {
  findToken,
  indexedDbTokenStore,
  type L402Token,
  localStorageTokenStore,
  memoryTokenStore,
  readL402Token,
  type StorageLike,
  type TokenStore,
} from './token-store.ts';

function mapStorage(): StorageLike & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

function token(p: Partial<L402Token> = {}): L402Token {
  return {
    origin: 'https://api.test',
    pathPrefix: '/v1/',
    macaroon: 'AgE=',
    preimage: '11'.repeat(32),
    paymentHash: 'aa'.repeat(32),
    validUntil: null,
    createdAt: 1_700_000_000_000,
    ...p,
  };
}

const stores: [string, () => TokenStore][] = [
  ['memory', () => memoryTokenStore()],
  ['localStorage (Map-backed Storage fake)', () => localStorageTokenStore(mapStorage(), 't:')],
  // fake-indexeddb is a complete in-memory IndexedDB (W3C test suite), a fresh database per store.
  ['IndexedDB (fake-indexeddb)', () => indexedDbTokenStore('tokens', new IDBFactory())],
];

describe('indexedDbTokenStore', () => {
  it('persists across store instances sharing one IndexedDB', async () => {
    const idb = new IDBFactory();
    await indexedDbTokenStore('shared', idb).put(token());
    expect(await indexedDbTokenStore('shared', idb).list('https://api.test')).toEqual([token()]);
    expect(await indexedDbTokenStore('other', idb).list('https://api.test')).toEqual([]);
  });
});

describe.each(stores)('%s token store', (_name, make) => {
  it('lists by origin, replaces a token of the same scope, removes by hash', async () => {
    const s = make();
    await s.put(token());
    await s.put(token({ origin: 'https://other.test', paymentHash: 'bb'.repeat(32) }));
    await s.put(token({ paymentHash: 'cc'.repeat(32) })); // same origin + prefix: replaces the first
    await s.put(token({ pathPrefix: '/v2/', paymentHash: 'dd'.repeat(32) }));
    expect((await s.list('https://api.test')).map((t) => t.paymentHash).sort()).toEqual([
      'cc'.repeat(32),
      'dd'.repeat(32),
    ]);
    await s.remove('https://api.test', 'cc'.repeat(32));
    expect((await s.list('https://api.test')).map((t) => t.paymentHash)).toEqual(['dd'.repeat(32)]);
    expect(await s.list('https://other.test')).toHaveLength(1);
    expect(await s.list('https://nobody.test')).toEqual([]);
  });

  it('keeps open payments per origin beside the tokens, apart from them', async () => {
    const s = make();
    const open = {
      origin: 'https://api.test',
      pathPrefix: '/v1/',
      paymentHash: 'ee'.repeat(32),
      macaroon: 'AgE=',
      validUntil: null,
      createdAt: 1_700_000_000_000,
    };
    await s.putPending?.(open);
    await s.putPending?.({ ...open, origin: 'https://other.test' });
    expect(await s.listPending?.('https://api.test')).toEqual([open]);
    expect(await s.list('https://api.test')).toEqual([]);
    await s.removePending?.('https://api.test', open.paymentHash);
    expect(await s.listPending?.('https://api.test')).toEqual([]);
    expect(await s.listPending?.('https://other.test')).toHaveLength(1);
  });

  it('findToken picks the longest matching prefix and drops expired tokens (unix ms)', async () => {
    const s = make();
    await s.put(token({ pathPrefix: '/', paymentHash: '01'.repeat(32) }));
    await s.put(token({ pathPrefix: '/v1/', paymentHash: '02'.repeat(32), validUntil: 1_800_000_000_000 }));
    const u = new URL('https://api.test/v1/similarity');
    expect((await findToken(s, u, 1_799_999_999_999))?.paymentHash).toBe('02'.repeat(32));
    expect((await findToken(s, u, 1_800_000_000_000))?.paymentHash).toBe('01'.repeat(32));
    expect((await s.list('https://api.test')).map((t) => t.paymentHash)).toEqual(['01'.repeat(32)]);
    expect(await findToken(s, new URL('https://evil.test/v1/similarity'), 0)).toBeNull();
  });

  it('findToken: a token without a path caveat serves its whole origin, never another origin or port', async () => {
    const s = make();
    await s.put(token({ pathPrefix: '/' }));
    for (const path of ['/', '/v1/similarity', '/v2/other/deep?q=1']) {
      expect((await findToken(s, new URL(`https://api.test${path}`), 0))?.paymentHash).toBe('aa'.repeat(32));
    }
    for (const other of [
      'https://evil.test/v1',
      'http://api.test/v1',
      'https://api.test:8443/v1',
      'https://x.api.test/',
    ]) {
      expect(await findToken(s, new URL(other), 0)).toBeNull();
    }
  });

  it('findToken: a path scope covers its own segments only', async () => {
    const s = make();
    await s.put(token({ pathPrefix: '/v1' }));
    expect(await findToken(s, new URL('https://api.test/v1/similarity'), 0)).not.toBeNull();
    expect(await findToken(s, new URL('https://api.test/v1'), 0)).not.toBeNull();
    expect(await findToken(s, new URL('https://api.test/v10/similarity'), 0)).toBeNull();
    expect(await findToken(s, new URL('https://api.test/v2/other'), 0)).toBeNull();
  });
});

describe('indexedDbTokenStore open payments', () => {
  it('a version-1 database (tokens only) keeps its tokens and gains the pending store', async () => {
    const idb = new IDBFactory();
    await new Promise<void>((resolve, reject) => {
      const r = idb.open('old', 1);
      r.onupgradeneeded = () =>
        r.result.createObjectStore('tokens', { keyPath: ['origin', 'paymentHash'] }).createIndex('origin', 'origin');
      r.onsuccess = () => {
        const tx = r.result.transaction('tokens', 'readwrite');
        tx.objectStore('tokens').put(token());
        tx.oncomplete = () => {
          r.result.close();
          resolve();
        };
      };
      r.onerror = () => reject(r.error);
    });
    const s = indexedDbTokenStore('old', idb);
    expect(await s.list('https://api.test')).toEqual([token()]);
    await s.putPending?.({
      origin: 'https://api.test',
      pathPrefix: '/',
      paymentHash: 'ee'.repeat(32),
      macaroon: 'AgE=',
      validUntil: null,
      createdAt: 1,
    });
    expect(await s.listPending?.('https://api.test')).toHaveLength(1);
  });
});

describe('localStorageTokenStore', () => {
  it('persists across store instances and ignores corrupt or tampered entries', async () => {
    const storage = mapStorage();
    localStorageTokenStore(storage, 'p:').put(token());
    expect(localStorageTokenStore(storage, 'p:').list('https://api.test')).toHaveLength(1);
    expect(localStorageTokenStore(storage, 'other:').list('https://api.test')).toEqual([]);
    storage.setItem(
      'p:https://api.test',
      JSON.stringify([token({ origin: 'https://evil.test' }), { macaroon: 1 }, token({ preimage: 'zz' })]),
    );
    expect(localStorageTokenStore(storage, 'p:').list('https://api.test')).toEqual([]);
    storage.setItem('p:https://api.test', '{not json');
    expect(localStorageTokenStore(storage, 'p:').list('https://api.test')).toEqual([]);
  });

  it('removes the key when the last token goes', () => {
    const storage = mapStorage();
    const s = localStorageTokenStore(storage, 'p:');
    s.put(token());
    s.remove('https://api.test', token().paymentHash);
    expect(storage.map.size).toBe(0);
  });
});

/** A real macaroon (the migration reads scope and expiry from its caveats). */
function macaroonWith(caveats: string[]): { macaroon: string; paymentHash: string } {
  const macaroon = mintMacaroon({
    rootKey: randomBytes(32),
    paymentHash: randomBytes(32),
    tokenId: randomBytes(32),
    caveats: [caveat.services([{ name: 's', tier: 0 }]), ...caveats],
  });
  return { macaroon, paymentHash: decodeMacaroon(macaroon).paymentHash };
}

/** A record as toolkit 0.1 wrote it: `expiresAt` and `createdAt` in unix seconds, the URL's directory as scope. */
function version01Token(caveats: string[], expiresAt: number | null) {
  return {
    origin: 'https://api.test',
    pathPrefix: '/v1/similarity/',
    ...macaroonWith(caveats),
    preimage: '11'.repeat(32),
    expiresAt,
    createdAt: 1_700_000_000,
  };
}

describe('records written by toolkit 0.1 (seconds, directory scope) are migrated on read', () => {
  const plain = version01Token(['s_valid_until=1800000000'], 1_800_000_000);
  const scoped = version01Token(['path_prefix=/v1'], null);
  const expectedPlain = {
    origin: 'https://api.test',
    pathPrefix: '/',
    macaroon: plain.macaroon,
    preimage: plain.preimage,
    paymentHash: plain.paymentHash,
    validUntil: 1_800_000_000_000,
    createdAt: 1_700_000_000_000,
  };

  it("readL402Token: seconds become ms, the scope is the one its caveats give, today's records stay as they are", () => {
    expect(readL402Token(plain)).toEqual(expectedPlain);
    expect(readL402Token(scoped)).toMatchObject({ pathPrefix: '/v1', validUntil: null, createdAt: 1_700_000_000_000 });
    expect(readL402Token(token())).toEqual(token());
    // An old record whose macaroon does not decode cannot be scoped: dropped, not trusted.
    expect(readL402Token({ ...plain, macaroon: 'AgE=' })).toBeNull();
    expect(readL402Token({ ...plain, createdAt: 'yesterday' })).toBeNull();
  });

  it("localStorage: old tokens and open payments are read in ms, serve by today's policy, and are rewritten so", async () => {
    const storage = mapStorage();
    storage.setItem('p:https://api.test', JSON.stringify([plain]));
    const { preimage: _, ...openPlain } = plain;
    storage.setItem('p:pending:https://api.test', JSON.stringify([{ ...openPlain, paymentHash: 'ee'.repeat(32) }]));
    const s = localStorageTokenStore(storage, 'p:');
    expect(s.list('https://api.test')).toEqual([expectedPlain]);
    expect(s.listPending?.('https://api.test')).toEqual([
      {
        origin: 'https://api.test',
        pathPrefix: '/',
        macaroon: plain.macaroon,
        paymentHash: 'ee'.repeat(32),
        validUntil: 1_800_000_000_000,
        createdAt: 1_700_000_000_000,
      },
    ]);
    // The old directory scope no longer limits it: the origin-wide token serves another path.
    expect((await findToken(s, new URL('https://api.test/v2/other'), 1_799_999_999_999))?.paymentHash).toBe(
      plain.paymentHash,
    );
    // Expiry counted in ms: gone at its caveat's second, not 1000 times later.
    expect(await findToken(s, new URL('https://api.test/v1/similarity'), 1_800_000_000_000)).toBeNull();
    expect(storage.getItem('p:https://api.test')).toBeNull();
    s.put(readL402Token(scoped)!);
    expect(JSON.parse(storage.getItem('p:https://api.test')!)).toEqual([
      expect.objectContaining({ pathPrefix: '/v1', validUntil: null, createdAt: 1_700_000_000_000 }),
    ]);
  });

  it("IndexedDB: old tokens and open payments are read in ms with their caveats' scope", async () => {
    const idb = new IDBFactory();
    await new Promise<void>((resolve, reject) => {
      const r = idb.open('old', 2);
      r.onupgradeneeded = () => {
        for (const name of ['tokens', 'pending'])
          r.result.createObjectStore(name, { keyPath: ['origin', 'paymentHash'] }).createIndex('origin', 'origin');
      };
      r.onsuccess = () => {
        const tx = r.result.transaction(['tokens', 'pending'], 'readwrite');
        tx.objectStore('tokens').put(plain);
        tx.objectStore('tokens').put(scoped);
        tx.objectStore('pending').put({ ...scoped, paymentHash: 'ee'.repeat(32) });
        tx.oncomplete = () => {
          r.result.close();
          resolve();
        };
      };
      r.onerror = () => reject(r.error);
    });
    const s = indexedDbTokenStore('old', idb);
    const byHash = new Map((await s.list('https://api.test')).map((t) => [t.paymentHash, t]));
    expect(byHash.get(plain.paymentHash)).toEqual(expectedPlain);
    expect(byHash.get(scoped.paymentHash)).toMatchObject({ pathPrefix: '/v1', validUntil: null });
    expect(await s.listPending?.('https://api.test')).toEqual([
      expect.objectContaining({ pathPrefix: '/v1', validUntil: null, createdAt: 1_700_000_000_000 }),
    ]);
    // The path-scoped one is the most specific under /v1; elsewhere only the origin-wide one serves.
    expect((await findToken(s, new URL('https://api.test/v1/x'), 0))?.paymentHash).toBe(scoped.paymentHash);
    expect((await findToken(s, new URL('https://api.test/v2/x'), 0))?.paymentHash).toBe(plain.paymentHash);
  });

  it('a custom store handing back old records: findToken reads them the same way', async () => {
    const custom: TokenStore = { list: () => [plain as unknown as L402Token], put: () => {}, remove: () => {} };
    expect(await findToken(custom, new URL('https://api.test/v2/x'), 1_799_999_999_999)).toEqual(expectedPlain);
    // and a store that lists another origin's token for this one is not believed
    const confused: TokenStore = {
      list: () => [token({ origin: 'https://evil.test' })],
      put: () => {},
      remove: () => {},
    };
    expect(await findToken(confused, new URL('https://api.test/v1/x'), 0)).toBeNull();
  });
});
