// State that several server instances must agree on: revoked tokens, and one-time `Payment` charges already
// spent. Root keys need no shared state (they derive from the master secret), so this is all a fleet shares. The
// embedded default keeps both in DATA_DIR (token-files.ts, gate/spent-charges.ts: one process); with
// SHARED_STORE_URL=postgres://… they live here, for any number of instances. Revocation checks stay synchronous and
// local: the store keeps a copy that it refreshes every `pollMs`, so a database restart does not stop paid requests
// with known tokens; what needs the database itself (revoke, spend) fails with StoreUnavailableError (HTTP 503).
import type { Logger } from '../log.ts';
import pg from 'pg';
import type { RevocationList } from './token-authority.ts';
import { errorMessage } from '../../src/util/error-message.ts';

/** The database cannot be reached or the connection broke: a temporary condition (HTTP 503). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS l402_revocations (seq bigserial PRIMARY KEY, token_id text NOT NULL UNIQUE, revoked_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS l402_spent_charges (charge_id text PRIMARY KEY, spent_at timestamptz NOT NULL DEFAULT now());`;

/** A PostgreSQL store that is connected and holds the current revocations. */
interface PostgresSharedStore extends SharedStore {
  /** Fetches revocations made since the last refresh (also done every `pollMs`). */
  refresh(): Promise<void>;
}

/**
 * Connects, creates the two tables if needed and loads the revocations. Rejects with {@link StoreUnavailableError}
 * when the database cannot be reached at start (the server then refuses to start rather than serve revoked tokens).
 * A `pg` pool reconnects by itself after the database restarts.
 * @example const store = await openPostgresSharedStore('postgres://l402@127.0.0.1:5432/l402');
 */
export async function openPostgresSharedStore(
  url: string,
  o: { pollMs?: number; log?: Logger } = {},
): Promise<PostgresSharedStore> {
  const pollMs = o.pollMs ?? 250;
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3000, query_timeout: 5000 });
  // An idle connection dropped by a restarting server is reported here; the pool replaces it on the next query.
  pool.on('error', () => {});
  let lastSeq = 0;
  let closed = false;
  const revoked = new Set<string>();

  const query = async (sql: string, params?: unknown[]): Promise<pg.QueryResult> => {
    try {
      return await pool.query(sql, params);
    } catch (e) {
      // Unreachable, restarting, or a statement refused while the server shuts down: all temporary for us.
      throw new StoreUnavailableError(errorMessage(e), { cause: e });
    }
  };
  const refresh = async (): Promise<void> => {
    const r = await query('SELECT seq, token_id FROM l402_revocations WHERE seq > $1 ORDER BY seq', [lastSeq]);
    for (const row of r.rows as { seq: string; token_id: string }[]) {
      revoked.add(row.token_id);
      lastSeq = Math.max(lastSeq, Number(row.seq));
    }
  };

  try {
    await query(SCHEMA);
    await refresh();
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  let wasDown = false;
  const timer = setInterval(() => {
    refresh().then(
      () => {
        if (wasDown) o.log?.({ msg: 'shared_store_back' });
        wasDown = false;
      },
      (e: unknown) => {
        if (!wasDown && !closed) o.log?.({ msg: 'shared_store_unavailable', error: errorMessage(e) });
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
        await query('INSERT INTO l402_revocations (token_id) VALUES ($1) ON CONFLICT (token_id) DO NOTHING', [hex]);
        revoked.add(hex);
      },
    },
    async spendOnce(chargeId) {
      const hex = checkId(chargeId);
      const r = await query(
        'INSERT INTO l402_spent_charges (charge_id) VALUES ($1) ON CONFLICT (charge_id) DO NOTHING',
        [hex],
      );
      return r.rowCount === 1;
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await pool.end().catch(() => {});
    },
  };
}
