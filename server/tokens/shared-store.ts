// State that several server instances must agree on: revoked tokens, and one-time charges already spent (for
// a future `Payment` scheme). Root keys need no shared state (they derive from the master secret), so this is
// all a fleet shares. Two stores behind one interface: files in DATA_DIR (the embedded default, one machine) and
// PostgreSQL (SHARED_STORE_URL=postgres://…, any number of instances). Revocation checks stay synchronous and
// local: the PostgreSQL store keeps a copy that it refreshes every `pollMs`, so a database restart does not stop
// paid requests with known tokens; what needs the database itself (revoke, spend) fails with StoreUnavailableError.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { connectPg, type PgConnection, parsePgUrl, StoreUnavailableError } from './pg-wire.ts';
import type { RevocationList } from './token-authority.ts';
import { fileRevocationList } from './token-files.ts';

export { StoreUnavailableError } from './pg-wire.ts';

/** What server instances share. */
export interface SharedStore {
  readonly revocations: RevocationList;
  /**
   * Records a one-time charge as spent: true the first time for `chargeId` (any instance), false after.
   * Throws {@link StoreUnavailableError} when the store cannot be reached (answer 503).
   */
  spendOnce(chargeId: string): Promise<boolean>;
  close(): Promise<void>;
}

const ID = /^[0-9a-f]{64}$/;
function checkId(id: string): string {
  const lower = id.toLowerCase();
  if (!ID.test(lower)) throw new Error('ids are 64 hex characters');
  return lower;
}

/** Files in `dataDir`: revocations as today, each spent charge as a file created exclusively (atomic across processes). */
export function fileSharedStore(dataDir: string): SharedStore {
  const spentDir = join(dataDir, 'spent-charges');
  return {
    revocations: fileRevocationList(dataDir),
    async spendOnce(chargeId) {
      const id = checkId(chargeId);
      mkdirSync(spentDir, { recursive: true, mode: 0o700 });
      try {
        writeFileSync(join(spentDir, id), '', { flag: 'wx', mode: 0o600 });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    },
    close: async () => {},
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS l402_revocations (seq bigserial PRIMARY KEY, token_id text NOT NULL UNIQUE, revoked_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS l402_spent_charges (charge_id text PRIMARY KEY, spent_at timestamptz NOT NULL DEFAULT now());`;

/** A PostgreSQL store that is connected and holds the current revocations. */
export interface PostgresSharedStore extends SharedStore {
  /** Fetches revocations made since the last refresh (also done every `pollMs`). */
  refresh(): Promise<void>;
}

/**
 * Connects, creates the two tables if needed and loads the revocations. Rejects with {@link StoreUnavailableError}
 * when the database cannot be reached at start (the server then refuses to start rather than serve revoked tokens).
 * @example const store = await openPostgresSharedStore('postgres://l402@127.0.0.1:5432/l402');
 */
export async function openPostgresSharedStore(url: string, o: { pollMs?: number; log?: Logger } = {}): Promise<PostgresSharedStore> {
  const target = parsePgUrl(url);
  const pollMs = o.pollMs ?? 250;
  let conn: PgConnection | null = null;
  let connecting: Promise<PgConnection> | null = null;
  let lastSeq = 0;
  let closed = false;
  const revoked = new Set<string>();

  const connection = (): Promise<PgConnection> => {
    if (conn && !conn.closed) return Promise.resolve(conn);
    connecting ??= connectPg(target).then(
      (c) => {
        conn = c;
        connecting = null;
        return c;
      },
      (e: unknown) => {
        connecting = null;
        throw e;
      },
    );
    return connecting;
  };
  const query = async (sql: string) => {
    try {
      return await (await connection()).query(sql);
    } catch (e) {
      if (e instanceof StoreUnavailableError) throw e;
      // A statement error on a live connection (e.g. the server is shutting down) is as good as unavailable.
      throw new StoreUnavailableError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  };
  const refresh = async (): Promise<void> => {
    const r = await query(`SELECT seq, token_id FROM l402_revocations WHERE seq > ${lastSeq} ORDER BY seq`);
    for (const [seq, id] of r.rows) {
      if (id) revoked.add(id);
      lastSeq = Math.max(lastSeq, Number(seq));
    }
  };

  await query(SCHEMA);
  await refresh();
  let wasDown = false;
  const timer = setInterval(() => {
    refresh().then(
      () => {
        if (wasDown) o.log?.({ msg: 'shared_store_back' });
        wasDown = false;
      },
      (e: unknown) => {
        if (!wasDown && !closed) o.log?.({ msg: 'shared_store_unavailable', error: e instanceof Error ? e.message : String(e) });
        wasDown = true;
      },
    );
  }, pollMs);
  timer.unref();

  return {
    revocations: {
      has: (id) => revoked.has(id.toLowerCase()),
      async add(id) {
        const hex = checkId(id);
        await query(`INSERT INTO l402_revocations (token_id) VALUES ('${hex}') ON CONFLICT (token_id) DO NOTHING`);
        revoked.add(hex);
      },
    },
    async spendOnce(chargeId) {
      const hex = checkId(chargeId);
      const r = await query(`INSERT INTO l402_spent_charges (charge_id) VALUES ('${hex}') ON CONFLICT (charge_id) DO NOTHING`);
      return r.command === 'INSERT 0 1';
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      conn?.close();
    },
  };
}
