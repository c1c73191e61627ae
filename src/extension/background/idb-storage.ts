// The background's durable storage (settings with the NWC secret, ledger, tokens) in the extension origin's
// IndexedDB. Why not storage.local: content scripts can read storage.local, and Firefox cannot restrict it
// (`setAccessLevel` there only applies to storage.session), while the extension origin's IndexedDB is reachable
// only from the background and extension pages: a content script uses the web page's IndexedDB
// (docs/security.md "The NWC secret").
import type { KeyValueStorage, StorageAreaLike } from './storage.ts';

const STORE = 'kv';

interface IdbStorageOptions {
  /** The IndexedDB factory (`globalThis.indexedDB`; fake-indexeddb in tests). */
  indexedDB: IDBFactory;
  name?: string;
  /** Data written by earlier versions to storage.local: moved here once, then removed from there. */
  migrateFrom?: StorageAreaLike & { clear(): Promise<void> };
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function open(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  const req = factory.open(name, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
  };
  return done(req);
}

/**
 * A KeyValueStorage over one IndexedDB object store. Every call waits for the (one-time) migration.
 * @example const local = idbStorage({ indexedDB, migrateFrom: browser.storage.local });
 */
export function idbStorage(o: IdbStorageOptions): KeyValueStorage {
  let db: Promise<IDBDatabase> | null = null;
  const store = async (mode: IDBTransactionMode) => {
    db ??= start();
    return (await db).transaction(STORE, mode).objectStore(STORE);
  };
  const start = async (): Promise<IDBDatabase> => {
    const d = await open(o.indexedDB, o.name ?? 'l402-autopilot');
    const old = o.migrateFrom ? await o.migrateFrom.get(null) : {};
    if (Object.keys(old).length > 0) {
      // Entries already here are newer than leftovers in storage.local: keep them.
      const have = new Set(await done(d.transaction(STORE, 'readonly').objectStore(STORE).getAllKeys()));
      const tx = d.transaction(STORE, 'readwrite');
      const s = tx.objectStore(STORE);
      for (const [k, v] of Object.entries(old)) if (!have.has(k)) s.put(v, k);
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('IndexedDB migration failed'));
      });
      await o.migrateFrom?.clear();
    }
    return d;
  };
  return {
    async get<T>(key: string) {
      return (await done((await store('readonly')).get(key))) as T | undefined;
    },
    async set(key, value) {
      await done((await store('readwrite')).put(value, key));
    },
    async remove(key) {
      await done((await store('readwrite')).delete(key));
    },
    async getAll<T>(prefix: string) {
      const s = await store('readonly');
      const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
      const [keys, values] = await Promise.all([done(s.getAllKeys(range)), done(s.getAll(range))]);
      const out = new Map<string, T>();
      keys.forEach((k, i) => {
        if (typeof k === 'string' && k.startsWith(prefix)) out.set(k, values[i] as T);
      });
      return out;
    },
  };
}
