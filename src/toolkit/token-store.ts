// Where paid L402 tokens live between requests (docs/design.md#the-page-toolkit).
// A token is a bearer credential: stores keep it per origin, and lookups never cross origins.

/** A paid credential and where it applies. */
export interface L402Token {
  /** `scheme://host[:port]` of the service that issued it. */
  origin: string;
  /** Path prefix it is used for (the directory of the request that paid for it, e.g. `/v1/`). */
  pathPrefix: string;
  /** Base64 macaroon from the challenge. */
  macaroon: string;
  /** 64 lowercase hex, verified against `paymentHash`. */
  preimage: string;
  paymentHash: string;
  /** Unix seconds from the macaroon's `<service>_valid_until` caveat; null when it has none. */
  expiresAt: number | null;
  /** Unix seconds. */
  createdAt: number;
}

/**
 * An L402 payment handed to the wallet whose outcome is not known yet: written BEFORE paying, removed once it
 * settles (it becomes a token) or surely failed. While one covers a scope, no second invoice is paid for it.
 */
export interface PendingPayment {
  origin: string;
  /** The scope the payment was for (as {@link L402Token.pathPrefix}). */
  pathPrefix: string;
  paymentHash: string;
  /** The challenge's macaroon: with the preimage a lookup finds, it is the token. */
  macaroon: string;
  expiresAt: number | null;
  /** Unix seconds. */
  createdAt: number;
}

/**
 * Storage for tokens. Methods may be sync or async. `list` returns every token of one origin (matching by path
 * and expiry is done by the toolkit, so custom stores stay trivial).
 */
export interface TokenStore {
  list(origin: string): L402Token[] | Promise<L402Token[]>;
  /** Adds a token, replacing any with the same origin + pathPrefix. */
  put(token: L402Token): void | Promise<void>;
  remove(origin: string, paymentHash: string): void | Promise<void>;
  /**
   * Payments in flight, persisted beside the tokens (all built-in stores have them). A store without them keeps
   * in-flight payments in memory only, so a reload cannot see one.
   */
  listPending?(origin: string): PendingPayment[] | Promise<PendingPayment[]>;
  putPending?(payment: PendingPayment): void | Promise<void>;
  removePending?(origin: string, paymentHash: string): void | Promise<void>;
}

/** The scope a request URL falls in: its origin and its directory. */
export function scopeOf(url: URL): { origin: string; pathPrefix: string } {
  const path = url.pathname;
  return { origin: url.origin, pathPrefix: path.slice(0, path.lastIndexOf('/') + 1) || '/' };
}

/** The earliest `*_valid_until` caveat (unix seconds), or null. Caveats may only narrow, so the minimum rules. */
export function expiryOf(caveats: readonly string[]): number | null {
  let until: number | null = null;
  for (const c of caveats) {
    const eq = c.indexOf('=');
    if (eq < 0 || !c.slice(0, eq).trim().endsWith('_valid_until')) continue;
    const v = Number(c.slice(eq + 1).trim());
    if (Number.isFinite(v)) until = until === null ? v : Math.min(until, v);
  }
  return until;
}

/**
 * The most specific unexpired token for a URL (longest matching path prefix); expired ones are removed on the way.
 * @example const t = await findToken(store, new URL(req.url), Date.now() / 1000);
 */
export async function findToken(store: TokenStore, url: URL, nowSeconds: number): Promise<L402Token | null> {
  let best: L402Token | null = null;
  for (const t of await store.list(url.origin)) {
    if (t.expiresAt !== null && nowSeconds >= t.expiresAt) {
      await store.remove(t.origin, t.paymentHash);
      continue;
    }
    if (!url.pathname.startsWith(t.pathPrefix)) continue;
    if (!best || t.pathPrefix.length > best.pathPrefix.length) best = t;
  }
  return best;
}

/** Shape check for tokens read back from storage a page (or a bug) may have tampered with. */
export function isL402Token(v: unknown): v is L402Token {
  if (!v || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  return (
    typeof t.origin === 'string' &&
    typeof t.pathPrefix === 'string' &&
    typeof t.macaroon === 'string' &&
    typeof t.preimage === 'string' &&
    /^[0-9a-f]{64}$/.test(t.preimage) &&
    typeof t.paymentHash === 'string' &&
    (t.expiresAt === null || typeof t.expiresAt === 'number') &&
    typeof t.createdAt === 'number'
  );
}

/** Shape check for pending records read back from storage. */
export function isPendingPayment(v: unknown): v is PendingPayment {
  if (!v || typeof v !== 'object') return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p.origin === 'string' &&
    typeof p.pathPrefix === 'string' &&
    typeof p.macaroon === 'string' &&
    typeof p.paymentHash === 'string' &&
    (p.expiresAt === null || typeof p.expiresAt === 'number') &&
    typeof p.createdAt === 'number'
  );
}

function upsert(list: readonly L402Token[], token: L402Token): L402Token[] {
  return [...list.filter((t) => t.pathPrefix !== token.pathPrefix && t.paymentHash !== token.paymentHash), token];
}

/**
 * Tokens in memory, for the life of the page or process.
 * @example const store = memoryTokenStore();
 */
export function memoryTokenStore(): TokenStore {
  const byOrigin = new Map<string, L402Token[]>();
  const pending = new Map<string, PendingPayment[]>();
  return {
    listPending: (origin) => [...(pending.get(origin) ?? [])],
    putPending: (p) => {
      pending.set(p.origin, [
        ...(pending.get(p.origin) ?? []).filter((x) => x.paymentHash !== p.paymentHash),
        { ...p },
      ]);
    },
    removePending: (origin, paymentHash) => {
      pending.set(
        origin,
        (pending.get(origin) ?? []).filter((x) => x.paymentHash !== paymentHash),
      );
    },
    list: (origin) => [...(byOrigin.get(origin) ?? [])],
    put: (token) => {
      byOrigin.set(token.origin, upsert(byOrigin.get(token.origin) ?? [], token));
    },
    remove: (origin, paymentHash) => {
      byOrigin.set(
        origin,
        (byOrigin.get(origin) ?? []).filter((t) => t.paymentHash !== paymentHash),
      );
    },
  };
}

/** The part of the Web Storage API the localStorage store uses (so a Map-backed fake works in tests). */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Tokens in `localStorage` (one JSON entry per origin under `prefix`), surviving reloads. Anything unreadable is
 * ignored rather than trusted.
 * @example const store = localStorageTokenStore(); // globalThis.localStorage, prefix 'l402:'
 */
export function localStorageTokenStore(storage: StorageLike = globalThis.localStorage, prefix = 'l402:'): TokenStore {
  if (!storage) throw new TypeError('localStorageTokenStore: no Storage available here (workers have none)');
  const read = (origin: string): L402Token[] => {
    try {
      const v: unknown = JSON.parse(storage.getItem(prefix + origin) ?? '[]');
      return Array.isArray(v) ? v.filter((t): t is L402Token => isL402Token(t) && t.origin === origin) : [];
    } catch {
      return [];
    }
  };
  const write = (key: string, list: readonly unknown[]) => {
    if (list.length === 0) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(list));
  };
  // An origin starts with its scheme, so this key never collides with a token key.
  const pendingKey = (origin: string) => `${prefix}pending:${origin}`;
  const readPending = (origin: string): PendingPayment[] => {
    try {
      const v: unknown = JSON.parse(storage.getItem(pendingKey(origin)) ?? '[]');
      return Array.isArray(v) ? v.filter((p): p is PendingPayment => isPendingPayment(p) && p.origin === origin) : [];
    } catch {
      return [];
    }
  };
  return {
    listPending: readPending,
    putPending: (p) =>
      write(pendingKey(p.origin), [...readPending(p.origin).filter((x) => x.paymentHash !== p.paymentHash), p]),
    removePending: (origin, paymentHash) =>
      write(
        pendingKey(origin),
        readPending(origin).filter((x) => x.paymentHash !== paymentHash),
      ),
    list: read,
    put: (token) => write(prefix + token.origin, upsert(read(token.origin), token)),
    remove: (origin, paymentHash) =>
      write(
        prefix + origin,
        read(origin).filter((t) => t.paymentHash !== paymentHash),
      ),
  };
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Tokens in IndexedDB (database `name`, store `tokens`, keyed by origin + payment hash; payments in flight in
 * store `pending`): works in pages and workers, including service workers where `localStorage` does not exist.
 * @example const store = indexedDbTokenStore('my-app-l402', indexedDB);
 */
export function indexedDbTokenStore(name = 'l402-tokens', factory: IDBFactory = globalThis.indexedDB): TokenStore {
  if (!factory) throw new TypeError('indexedDbTokenStore: no IndexedDB available here');
  let db: Promise<IDBDatabase> | null = null;
  const open = (): Promise<IDBDatabase> => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      // Version 2 adds `pending`; a version-1 database keeps its tokens.
      const r = factory.open(name, 2);
      r.onupgradeneeded = () => {
        for (const storeName of ['tokens', 'pending']) {
          if (r.result.objectStoreNames.contains(storeName)) continue;
          const s = r.result.createObjectStore(storeName, { keyPath: ['origin', 'paymentHash'] });
          s.createIndex('origin', 'origin');
        }
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    return db;
  };
  const tx = async (mode: IDBTransactionMode, storeName = 'tokens') =>
    (await open()).transaction(storeName, mode).objectStore(storeName);
  const list = async (origin: string): Promise<L402Token[]> => {
    const all: unknown[] = await request((await tx('readonly')).index('origin').getAll(origin));
    return all.filter((t): t is L402Token => isL402Token(t) && t.origin === origin);
  };
  return {
    list,
    async put(token) {
      const stale = (await list(token.origin)).filter((t) => t.pathPrefix === token.pathPrefix);
      const store = await tx('readwrite');
      // One transaction: the replaced tokens and the new one change together.
      for (const t of stale) store.delete([t.origin, t.paymentHash]);
      await request(store.put({ ...token }));
    },
    async remove(origin, paymentHash) {
      await request((await tx('readwrite')).delete([origin, paymentHash]));
    },
    async listPending(origin) {
      const all: unknown[] = await request((await tx('readonly', 'pending')).index('origin').getAll(origin));
      return all.filter((p): p is PendingPayment => isPendingPayment(p) && p.origin === origin);
    },
    async putPending(p) {
      await request((await tx('readwrite', 'pending')).put({ ...p }));
    },
    async removePending(origin, paymentHash) {
      await request((await tx('readwrite', 'pending')).delete([origin, paymentHash]));
    },
  };
}
