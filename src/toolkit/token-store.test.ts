import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  expiryOf,
  findToken,
  indexedDbTokenStore,
  type L402Token,
  localStorageTokenStore,
  memoryTokenStore,
  type StorageLike,
  scopeOf,
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
    expiresAt: null,
    createdAt: 1,
    ...p,
  };
}

describe('scopeOf / expiryOf', () => {
  it('scopes a URL to its origin and directory', () => {
    expect(scopeOf(new URL('https://a.test:8443/v1/similarity?x=1'))).toEqual({
      origin: 'https://a.test:8443',
      pathPrefix: '/v1/',
    });
    expect(scopeOf(new URL('https://a.test/v1/similarity/batch'))).toEqual({
      origin: 'https://a.test',
      pathPrefix: '/v1/similarity/',
    });
    expect(scopeOf(new URL('https://a.test'))).toEqual({ origin: 'https://a.test', pathPrefix: '/' });
  });
  it('takes the earliest *_valid_until caveat', () => {
    expect(expiryOf(['services=s:0', 's_valid_until=200', 'x_valid_until=100', 's_capabilities=a'])).toBe(100);
    expect(expiryOf(['services=s:0', 's_valid_until=soon'])).toBeNull();
    expect(expiryOf([])).toBeNull();
  });
});

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
      expiresAt: null,
      createdAt: 1,
    };
    await s.putPending?.(open);
    await s.putPending?.({ ...open, origin: 'https://other.test' });
    expect(await s.listPending?.('https://api.test')).toEqual([open]);
    expect(await s.list('https://api.test')).toEqual([]);
    await s.removePending?.('https://api.test', open.paymentHash);
    expect(await s.listPending?.('https://api.test')).toEqual([]);
    expect(await s.listPending?.('https://other.test')).toHaveLength(1);
  });

  it('findToken picks the longest matching prefix and drops expired tokens', async () => {
    const s = make();
    await s.put(token({ pathPrefix: '/', paymentHash: '01'.repeat(32) }));
    await s.put(token({ pathPrefix: '/v1/', paymentHash: '02'.repeat(32), expiresAt: 100 }));
    const u = new URL('https://api.test/v1/similarity');
    expect((await findToken(s, u, 50))?.paymentHash).toBe('02'.repeat(32));
    expect((await findToken(s, u, 100))?.paymentHash).toBe('01'.repeat(32));
    expect((await s.list('https://api.test')).map((t) => t.paymentHash)).toEqual(['01'.repeat(32)]);
    expect(await findToken(s, new URL('https://evil.test/v1/similarity'), 0)).toBeNull();
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
      expiresAt: null,
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
