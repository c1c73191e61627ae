// A minimal PostgreSQL client over the v3 wire protocol (https://www.postgresql.org/docs/current/protocol.html):
// startup, trust / cleartext / SCRAM-SHA-256 authentication, and the simple query protocol, one query at a time.
// Enough for the shared store's few fixed statements, without a driver dependency. Values are returned as text.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** The database cannot be reached or the connection broke: a temporary condition (HTTP 503). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Rows as text (null for SQL NULL) and the command tag, e.g. `INSERT 0 1`. */
export interface QueryResult {
  rows: (string | null)[][];
  command: string;
}

export interface PgConnection {
  query(sql: string): Promise<QueryResult>;
  close(): void;
  readonly closed: boolean;
}

/** Parts of a `postgres://user:password@host:port/database` URL. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function parsePgUrl(url: string): PgTarget {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('SHARED_STORE_URL must be a postgres:// URL');
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1) || u.username || 'postgres'),
  };
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

/** Opens a connection and authenticates. Rejects with {@link StoreUnavailableError}. */
export function connectPg(t: PgTarget, timeoutMs = 3000): Promise<PgConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(t.port, t.host);
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let ready = false;
    let closed = false;
    let scram: { nonce: string; first: string; serverSig?: Buffer } | null = null;
    const pending: { sql: string; resolve: (r: QueryResult) => void; reject: (e: Error) => void }[] = [];
    let current: { rows: (string | null)[][]; command: string; error: string | null } | null = null;
    const timer = setTimeout(() => fail(new StoreUnavailableError(`postgres ${t.host}:${t.port}: no answer within ${timeoutMs} ms`)), timeoutMs);

    const fail = (e: Error): void => {
      clearTimeout(timer);
      if (!closed) {
        closed = true;
        socket.destroy();
      }
      if (!ready) reject(e);
      for (const p of pending.splice(0)) p.reject(e);
    };
    const conn: PgConnection = {
      get closed() {
        return closed;
      },
      query(sql) {
        if (closed) return Promise.reject(new StoreUnavailableError('postgres connection is closed'));
        return new Promise((res, rej) => {
          pending.push({ sql, resolve: res, reject: rej });
          if (pending.length === 1) socket.write(message('Q', cstr(sql)));
        });
      },
      close() {
        if (closed) return;
        closed = true;
        socket.end(message('X', Buffer.alloc(0)));
        for (const p of pending.splice(0)) p.reject(new StoreUnavailableError('postgres connection closed'));
      },
    };

    const onAuth = (body: Buffer): void => {
      const kind = body.readInt32BE(0);
      if (kind === 0) return; // AuthenticationOk
      if (kind === 3) {
        socket.write(message('p', cstr(t.password)));
        return;
      }
      if (kind === 10) {
        const mechanisms = body.subarray(4).toString('utf8').split('\0');
        if (!mechanisms.includes('SCRAM-SHA-256')) throw new Error(`postgres offers no supported SASL mechanism (${mechanisms.join(', ')})`);
        const nonce = randomBytes(18).toString('base64');
        const first = `n=*,r=${nonce}`;
        scram = { nonce, first };
        const payload = Buffer.from(`n,,${first}`);
        const len = Buffer.alloc(4);
        len.writeInt32BE(payload.length);
        socket.write(message('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, payload])));
        return;
      }
      if (kind === 11 && scram) {
        const serverFirst = body.subarray(4).toString('utf8');
        const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
        const r = attrs.r ?? '';
        if (!r.startsWith(scram.nonce)) throw new Error('postgres SCRAM: server nonce does not extend ours');
        const salted = pbkdf2Sync(t.password.normalize('NFKC'), Buffer.from(attrs.s ?? '', 'base64'), Number(attrs.i), 32, 'sha256');
        const clientKey = createHmac('sha256', salted).update('Client Key').digest();
        const storedKey = createHash('sha256').update(clientKey).digest();
        const withoutProof = `c=biws,r=${r}`;
        const authMessage = `${scram.first},${serverFirst},${withoutProof}`;
        const sig = createHmac('sha256', storedKey).update(authMessage).digest();
        const proof = Buffer.from(clientKey.map((b, i) => b ^ (sig[i] ?? 0)));
        const serverKey = createHmac('sha256', salted).update('Server Key').digest();
        scram.serverSig = createHmac('sha256', serverKey).update(authMessage).digest();
        socket.write(message('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)));
        return;
      }
      if (kind === 12 && scram?.serverSig) {
        const v = Buffer.from(body.subarray(4).toString('utf8').replace(/^v=/, ''), 'base64');
        if (v.length !== scram.serverSig.length || !timingSafeEqual(v, scram.serverSig)) throw new Error('postgres SCRAM: bad server signature');
        return;
      }
      throw new Error(`postgres asks for an unsupported authentication method (${kind}); use trust, password or scram-sha-256`);
    };

    const onMessage = (type: string, body: Buffer): void => {
      switch (type) {
        case 'R':
          onAuth(body);
          return;
        case 'Z':
          if (!ready) {
            ready = true;
            clearTimeout(timer);
            resolve(conn);
            return;
          }
          if (current) {
            const done = current;
            current = null;
            const p = pending.shift();
            if (p) {
              if (done.error) p.reject(new Error(`postgres: ${done.error}`));
              else p.resolve({ rows: done.rows, command: done.command });
            }
            const next = pending[0];
            if (next) socket.write(message('Q', cstr(next.sql)));
          }
          return;
        case 'D': {
          const row: (string | null)[] = [];
          const n = body.readInt16BE(0);
          let at = 2;
          for (let i = 0; i < n; i++) {
            const len = body.readInt32BE(at);
            at += 4;
            if (len < 0) row.push(null);
            else {
              row.push(body.toString('utf8', at, at + len));
              at += len;
            }
          }
          current ??= { rows: [], command: '', error: null };
          current.rows.push(row);
          return;
        }
        case 'C':
          current ??= { rows: [], command: '', error: null };
          current.command = body.toString('utf8', 0, body.length - 1);
          return;
        case 'T':
        case 'I':
          current ??= { rows: [], command: '', error: null };
          return;
        case 'E': {
          const fields = body.toString('utf8').split('\0');
          const text = fields.find((f) => f.startsWith('M'))?.slice(1) ?? 'error';
          if (!ready) throw new Error(text);
          current ??= { rows: [], command: '', error: null };
          current.error = text;
          return;
        }
        default:
          return; // ParameterStatus, BackendKeyData, NoticeResponse: not needed here
      }
    };

    socket.on('connect', () => {
      const params = Buffer.concat([cstr('user'), cstr(t.user), cstr('database'), cstr(t.database), cstr('client_encoding'), cstr('UTF8'), Buffer.from([0])]);
      const head = Buffer.alloc(8);
      head.writeInt32BE(params.length + 8, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([head, params]));
    });
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        while (buf.length >= 5) {
          const len = buf.readInt32BE(1);
          if (buf.length < len + 1) break;
          const type = String.fromCharCode(buf[0]!);
          const body = buf.subarray(5, len + 1);
          buf = buf.subarray(len + 1);
          onMessage(type, body);
        }
      } catch (e) {
        fail(new StoreUnavailableError(e instanceof Error ? e.message : String(e), { cause: e }));
      }
    });
    socket.on('error', (e) => fail(new StoreUnavailableError(`postgres ${t.host}:${t.port}: ${e.message}`, { cause: e })));
    socket.on('close', () => fail(new StoreUnavailableError('postgres connection closed')));
  });
}
