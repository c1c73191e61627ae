// Key-value storage behind one small interface, so every background module runs on `browser.storage`
// in the extension and on memory in tests (docs/design.md#house-style). The service worker keeps no state in
// memory between events (docs/design.md#house-style): everything that must survive lives here.

/** The storage the background modules use. Values are JSON-like (structured-clonable). */
export interface KeyValueStorage {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  remove(key: string): Promise<void>;
  /** Every entry whose key starts with `prefix`. */
  getAll<T>(prefix: string): Promise<Map<string, T>>;
}

/**
 * Storage in memory (tests, Node). Values are cloned in and out so callers never share objects with it.
 * @example const s = memoryStorage(); await s.set('a', 1); await s.get<number>('a') // 1
 */
export function memoryStorage(): KeyValueStorage {
  const data = new Map<string, unknown>();
  return {
    async get<T>(key: string) {
      return data.has(key) ? (structuredClone(data.get(key)) as T) : undefined;
    },
    async set(key, value) {
      data.set(key, structuredClone(value));
    },
    async remove(key) {
      data.delete(key);
    },
    async getAll<T>(prefix: string) {
      const out = new Map<string, T>();
      for (const [k, v] of data) if (k.startsWith(prefix)) out.set(k, structuredClone(v) as T);
      return out;
    },
  };
}

/** The part of `browser.storage.local` / `browser.storage.session` (webextension-polyfill) used here. */
export interface StorageAreaLike {
  get(keys?: null | string | string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

/**
 * Storage over a browser storage area. The area is passed in (not imported) so this module loads in Node.
 * @example const local = browserStorage(browser.storage.local);
 */
export function browserStorage(area: StorageAreaLike): KeyValueStorage {
  return {
    async get<T>(key: string) {
      const r = await area.get(key);
      return r[key] as T | undefined;
    },
    async set(key, value) {
      await area.set({ [key]: value });
    },
    async remove(key) {
      await area.remove(key);
    },
    async getAll<T>(prefix: string) {
      const all = await area.get(null);
      const out = new Map<string, T>();
      for (const [k, v] of Object.entries(all)) if (k.startsWith(prefix)) out.set(k, v as T);
      return out;
    },
  };
}

/** The Web Locks API as far as used here (service workers and extension pages have it in Chrome and Firefox). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

function locksApi(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : undefined;
}

/**
 * Runs `fn` while holding the named lock: every read-modify-write of budgets goes through this so concurrent
 * 402s cannot overspend (docs/design.md#decide). Uses `navigator.locks` (shared by all extension contexts) when
 * present, else an in-process promise chain. Not re-entrant: never nest the same name.
 * @example await withLock('budget', async () => { const t = await totals(); await reserve(t); });
 */
export function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = locksApi();
  return locks ? locks.request(name, fn) : chainLock(name, fn);
}

/**
 * FIFO promise chains, one per name: `fn` starts once every earlier call under the same name has settled (failed
 * ones too). The extension's in-process lock and the agent's (src/agent/sqlite-storage.ts processLocks) share it.
 * @example const lock = fifoChains(); await lock('budget', async () => reserve());
 */
export function fifoChains(): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const chains = new Map<string, Promise<unknown>>();
  return (name, fn) => {
    const prev = chains.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    chains.set(name, tail);
    void tail.then(() => {
      if (chains.get(name) === tail) chains.delete(name);
    });
    return run;
  };
}

/** The in-process fallback of {@link withLock} (exported for tests, and for the agent's run budget). */
export const chainLock = fifoChains();
