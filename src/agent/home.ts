// Where the agent keeps its state: one directory (the database, the lock files, the wallet secret). Defaults to
// the XDG data directory; L402_AUTOPILOT_HOME or --data-dir moves it (tests use a temporary one).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The data directory: `flag`, else $L402_AUTOPILOT_HOME, else $XDG_DATA_HOME/l402-autopilot, else
 * ~/.local/share/l402-autopilot (https://specifications.freedesktop.org/basedir-spec/latest/).
 */
export function dataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.L402_AUTOPILOT_HOME) return env.L402_AUTOPILOT_HOME;
  const xdg = env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'l402-autopilot');
}

export interface Home {
  dir: string;
  database: string;
  locks: string;
  walletFile: string;
}

/** Creates the directory (0700: it holds a wallet secret) and names its files. */
export function openHome(dir: string): Home {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { dir, database: join(dir, 'state.sqlite'), locks: join(dir, 'locks'), walletFile: join(dir, 'wallet.nwc') };
}

/** Writes the NWC URI to a file only the user can read (0600), replacing any earlier one. */
export function writeSecret(path: string, secret: string): void {
  if (existsSync(path)) rmSync(path);
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/** The stored NWC URI, or null. Refuses a file others can read: the URI spends money. */
export function readSecret(path: string): string | null {
  if (!existsSync(path)) return null;
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0)
    throw new Error(
      `${path} is readable by other users (mode ${(statSync(path).mode & 0o777).toString(8)}): chmod 600 it`,
    );
  const s = readFileSync(path, 'utf8').trim();
  return s === '' ? null : s;
}
