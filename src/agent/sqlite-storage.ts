// The agent's storage: the engine's KeyValueStorage over node:sqlite (Node's built-in SQLite, no native build), plus
// a lock that holds across processes, so two agents sharing one wallet reserve budgets one at a time.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fifoChains, type KeyValueStorage, type LockManagerLike } from '../extension/background/storage.ts';
import { errorMessage } from '../util/error-message.ts';

export interface SqliteStorage extends KeyValueStorage {
  close(): void;
}

/** How long a writer waits for another process's write to finish, ms (writes are single short statements). */
const BUSY_TIMEOUT_MS = 10_000;

function open(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL: readers never block the writer, and a process killed mid-write leaves the last commit intact.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  return db;
}

/**
 * A KeyValueStorage in one SQLite file; values are stored as JSON text. Every set is its own committed
 * statement, so a crash never leaves half a record.
 * @example const s = sqliteStorage('/home/me/.local/share/l402-autopilot/state.sqlite'); await s.set('a', 1);
 */
export function sqliteStorage(path: string): SqliteStorage {
  const db = open(path);
  db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID');
  const getStmt = db.prepare('SELECT value FROM kv WHERE key = ?');
  const setStmt = db.prepare(
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const removeStmt = db.prepare('DELETE FROM kv WHERE key = ?');
  // substr, not LIKE: a prefix may hold % or _.
  const prefixStmt = db.prepare('SELECT key, value FROM kv WHERE substr(key, 1, length(?1)) = ?1');
  return {
    async get<T>(key: string) {
      const row = getStmt.get(key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    async set(key, value) {
      if (value === undefined) throw new TypeError(`storage: cannot store undefined under ${key}`);
      setStmt.run(key, JSON.stringify(value));
    },
    async remove(key) {
      removeStmt.run(key);
    },
    async getAll<T>(prefix: string) {
      const out = new Map<string, T>();
      for (const row of prefixStmt.all(prefix) as { key: string; value: string }[])
        out.set(row.key, JSON.parse(row.value) as T);
      return out;
    },
    close() {
      db.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Named locks that hold across processes: one SQLite file per name in `dir`, held by an open `BEGIN IMMEDIATE`
 * transaction (SQLite's write lock; the OS drops it when a holder dies, even by SIGKILL). Waiting polls without
 * blocking the event loop; inside one process a FIFO chain per name keeps callers off each other's connection.
 * @example const locks = processLocks(dir); await locks.request('budget', async () => reserve());
 */
export function processLocks(dir: string, options: { waitMs?: number } = {}): LockManagerLike & { close(): void } {
  mkdirSync(dir, { recursive: true });
  const waitMs = options.waitMs ?? 30_000;
  const dbs = new Map<string, DatabaseSync>();
  const chain = fifoChains();
  const dbFor = (name: string): DatabaseSync => {
    let db = dbs.get(name);
    if (!db) {
      db = new DatabaseSync(join(dir, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}.lock.sqlite`));
      db.exec('PRAGMA busy_timeout = 0');
      dbs.set(name, db);
    }
    return db;
  };
  const acquire = async (db: DatabaseSync, name: string): Promise<void> => {
    const until = Date.now() + waitMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        if (!/busy|locked/i.test(errorMessage(e))) throw e;
        if (Date.now() > until) throw new Error(`lock ${name}: still held by another process after ${waitMs} ms`);
        await sleep(delay + Math.random() * delay);
      }
    }
  };
  const locked = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const db = dbFor(name);
    await acquire(db, name);
    try {
      return await fn();
    } finally {
      db.exec('ROLLBACK');
    }
  };
  return {
    request<T>(name: string, fn: () => Promise<T>): Promise<T> {
      return chain(name, () => locked(name, fn));
    },
    close() {
      for (const db of dbs.values()) db.close();
      dbs.clear();
    },
  };
}

/**
 * Makes the engine's withLock (which uses `navigator.locks` when present) take `locks`: Node's own navigator.locks
 * holds within one process only, and budgets must hold across agent processes.
 */
export function installProcessLocks(locks: LockManagerLike): void {
  const nav = (globalThis as { navigator?: object }).navigator;
  if (!nav) {
    Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true, writable: true });
    return;
  }
  Object.defineProperty(nav, 'locks', { value: locks, configurable: true, writable: true });
}
