// Where paid L402 tokens live between requests (docs/design.md#the-page-toolkit).
// A token is a bearer credential: stores keep it per origin, and lookups never cross origins. Which requests it is
// sent with, and until when, is the core's one policy (docs/design.md#credential-scope); times are unix ms.
import { covers, decodeMacaroon, isUnexpired, pathScope, validUntil } from '../l402/index.ts';

/** A paid credential and where it applies. */
export interface L402Token {
  /** `scheme://host[:port]` of the service that issued it. */
  origin: string;
  /**
   * Requests to `origin` whose path lies under this (segment-wise) get the token: the macaroon's path caveat, else
   * `/`, the whole origin (`scopeFor` in the core).
   */
  pathPrefix: string;
  /** Base64 macaroon from the challenge. */
  macaroon: string;
  /** 64 lowercase hex, verified against `paymentHash`. */
  preimage: string;
  paymentHash: string;
  /** Unix ms from the macaroon's earliest `<service>_valid_until` caveat; null when it has none. */
  validUntil: number | null;
  /** Unix ms. */
  createdAt: number;
}

/**
 * An L402 payment handed to the wallet whose outcome is not known yet: written BEFORE paying, removed once it
 * settles (it becomes a token) or surely failed. While one covers a request, no second invoice is paid for it.
 */
export interface PendingPayment {
  origin: string;
  /** The scope of the token being bought (as {@link L402Token.pathPrefix}). */
  pathPrefix: string;
  paymentHash: string;
  /** The challenge's macaroon: with the preimage a lookup finds, it is the token. */
  macaroon: string;
  /** Unix ms, as {@link L402Token.validUntil}. */
  validUntil: number | null;
  /** Unix ms. */
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

/**
 * The unexpired token for a URL: same origin, path in its scope; the longest scope wins, then the newest. Expired
 * ones are removed on the way. `nowMs` is unix milliseconds, like `Date.now()`.
 * @example const t = await findToken(store, new URL(req.url), Date.now());
 */
export async function findToken(store: TokenStore, url: URL, nowMs: number): Promise<L402Token | null> {
  let best: L402Token | null = null;
  for (const listed of await store.list(url.origin)) {
    // A custom store may hand back what an earlier build gave it to keep.
    const t = readL402Token(listed);
    if (!t || t.origin !== url.origin) continue;
    if (!isUnexpired(t.validUntil, nowMs)) {
      await store.remove(t.origin, t.paymentHash);
      continue;
    }
    if (!covers(t, url)) continue;
    const longer = !best || t.pathPrefix.length > best.pathPrefix.length;
    if (longer || (t.pathPrefix.length === best?.pathPrefix.length && t.createdAt > best.createdAt)) best = t;
  }
  return best;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isUntil = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));
const isPath = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/');

/** Shape check (current shape) for tokens read back from storage a page (or a bug) may have tampered with. */
export function isL402Token(v: unknown): v is L402Token {
  return (
    isRecord(v) &&
    typeof v.origin === 'string' &&
    isPath(v.pathPrefix) &&
    typeof v.macaroon === 'string' &&
    typeof v.preimage === 'string' &&
    /^[0-9a-f]{64}$/.test(v.preimage) &&
    typeof v.paymentHash === 'string' &&
    isUntil(v.validUntil) &&
    typeof v.createdAt === 'number'
  );
}

/** Shape check (current shape) for pending records read back from storage. */
function isPendingPayment(v: unknown): v is PendingPayment {
  return (
    isRecord(v) &&
    typeof v.origin === 'string' &&
    isPath(v.pathPrefix) &&
    typeof v.macaroon === 'string' &&
    typeof v.paymentHash === 'string' &&
    isUntil(v.validUntil) &&
    typeof v.createdAt === 'number'
  );
}

/** The fields today's records keep in ms (and the scope), as {@link L402Token}. */
interface Timing {
  pathPrefix: string;
  validUntil: number | null;
  createdAt: number;
}

/**
 * What a record of toolkit 0.1 (`expiresAt` and `createdAt` in unix SECONDS, `pathPrefix` the directory of the URL
 * that paid) is in today's terms: ms, and the scope and expiry its own macaroon gives (what a fresh token gets).
 * Dropping the old directory scope widens nothing that toolkit did not already do: it sent a token to any path of
 * its origin as a fallback. Null when `v` is no such record or its macaroon does not decode.
 */
function migratedTiming(v: Record<string, unknown>): Timing | null {
  if ('validUntil' in v || !isUntil(v.expiresAt) || typeof v.createdAt !== 'number') return null;
  if (typeof v.macaroon !== 'string') return null;
  let caveats: string[];
  try {
    caveats = decodeMacaroon(v.macaroon).caveats;
  } catch {
    return null;
  }
  // The stored seconds came from the same caveats; were they ever to differ, the earlier rules (caveats narrow).
  const stored = v.expiresAt === null ? null : v.expiresAt * 1000;
  const signed = validUntil(caveats);
  const until = stored === null || signed === null ? (stored ?? signed) : Math.min(stored, signed);
  return { pathPrefix: pathScope(caveats) ?? '/', validUntil: until, createdAt: v.createdAt * 1000 };
}

/**
 * A token record read back from storage: one of today's shape as it is, one written by toolkit 0.1 migrated
 * (seconds → ms, scope from its caveats), anything else (tampered, corrupt) null.
 * @example const tokens = JSON.parse(raw).map(readL402Token).filter((t) => t !== null);
 */
export function readL402Token(v: unknown): L402Token | null {
  if (isL402Token(v)) return v;
  const timing = isRecord(v) ? migratedTiming(v) : null;
  if (!isRecord(v) || !timing) return null;
  const t = { origin: v.origin, macaroon: v.macaroon, preimage: v.preimage, paymentHash: v.paymentHash, ...timing };
  return isL402Token(t) ? t : null;
}

/** A pending record read back from storage, as {@link readL402Token}. */
export function readPendingPayment(v: unknown): PendingPayment | null {
  if (isPendingPayment(v)) return v;
  const timing = isRecord(v) ? migratedTiming(v) : null;
  if (!isRecord(v) || !timing) return null;
  const p = { origin: v.origin, macaroon: v.macaroon, paymentHash: v.paymentHash, ...timing };
  return isPendingPayment(p) ? p : null;
}

/** The records of one origin in `list` (from storage), read and migrated; the rest dropped. */
function readAll<T extends { origin: string }>(list: unknown, origin: string, read: (v: unknown) => T | null): T[] {
  if (!Array.isArray(list)) return [];
  return list.map(read).filter((t): t is T => t !== null && t.origin === origin);
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
      return readAll(v, origin, readL402Token);
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
      return readAll(v, origin, readPendingPayment);
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
    return readAll(all, origin, readL402Token);
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
      return readAll(all, origin, readPendingPayment);
    },
    async putPending(p) {
      await request((await tx('readwrite', 'pending')).put({ ...p }));
    },
    async removePending(origin, paymentHash) {
      await request((await tx('readwrite', 'pending')).delete([origin, paymentHash]));
    },
  };
}
