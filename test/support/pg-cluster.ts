// Test support: a throwaway PostgreSQL cluster in a temp dir on a free loopback port; TCP logins need the
// generated password over SCRAM-SHA-256 (what a real deployment uses). Run as `nobody` when we are root
// (postgres refuses to run as root). Every failure throws with the server's log.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgCluster {
  /** With the password. */
  url: string;
  password: string;
  start(): void;
  stop(): void;
  /** Stops and deletes the cluster. */
  destroy(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** `initdb`/`pg_ctl` from PATH, else from Debian's newest /usr/lib/postgresql/<version>/bin (not on PATH there). */
function pgBin(cmd: string): string {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
  if (onPath) return cmd;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', cmd))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0)
    throw new Error(`postgres test cluster: ${cmd} not found on PATH or in ${root} (apt-get install postgresql)`);
  return join(root, versions[0] as string, 'bin', cmd);
}

export async function startPgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'l402-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const bin = pgBin(cmd);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'nobody', '--', bin, ...args]] : [bin, args];
    try {
      execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000 });
    } catch (e) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'log'), 'utf8');
      } catch {
        // no log yet
      }
      const out = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
      throw new Error(`postgres test cluster: ${cmd} ${args.join(' ')} failed: ${out}\n${log}`);
    }
  };
  if (asRoot) chownSync(dir, 65534, 65534);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  run('initdb', [
    '-D',
    join(dir, 'db'),
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const start = (): void =>
    run('pg_ctl', [
      '-D',
      join(dir, 'db'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ]);
  const stop = (): void => run('pg_ctl', ['-D', join(dir, 'db'), '-m', 'fast', '-w', 'stop']);
  start();
  let running = true;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    password,
    start() {
      start();
      running = true;
    },
    stop() {
      stop();
      running = false;
    },
    destroy() {
      if (running) stop();
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
