// Persistence of the token authority in the data directory: the master secret (created once, mode
// 0600, never logged) and the revocation list (a JSON array of token ids, rewritten atomically).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexToBytes } from '../../src/l402/index.ts';
import { createTokenAuthority, type RevocationList, type TokenAuthority } from './token-authority.ts';

const MASTER_SECRET_FILE = 'master-secret.hex';
const REVOCATIONS_FILE = 'revoked-tokens.json';

/** Writes `data` to `path` via a temp file + rename, so a crash never leaves a half-written file. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

/** Reads the master secret, creating a random one (0600) on first start. */
export function loadOrCreateMasterSecret(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MASTER_SECRET_FILE);
  if (!existsSync(path)) {
    writeFileAtomic(path, `${randomBytes(32).toString('hex')}\n`);
  }
  chmodSync(path, 0o600);
  const bytes = hexToBytes(readFileSync(path, 'utf8').trim());
  if (!bytes || bytes.length < 32)
    throw new Error(
      `${path} must hold at least 32 bytes of hex; delete it to create a new one (this invalidates all tokens)`,
    );
  return bytes;
}

/**
 * A revocation list persisted as a JSON array in the data dir. A running server picks up ids revoked
 * by another process (server/revoke.ts) within `refreshMs`: the file's mtime is checked at most that often.
 */
export function fileRevocationList(dataDir: string, refreshMs = 1000): RevocationList {
  const path = join(dataDir, REVOCATIONS_FILE);
  let set = new Set<string>();
  let mtimeMs = -1;
  let checkedAt = 0;
  const reload = (): void => {
    checkedAt = Date.now();
    if (!existsSync(path)) return;
    const m = statSync(path).mtimeMs;
    if (m === mtimeMs) return;
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
      throw new Error(`${path} must be a JSON array of token ids`);
    set = new Set(parsed.map((id) => id.toLowerCase()));
    mtimeMs = m;
  };
  reload();
  return {
    has(id) {
      if (Date.now() - checkedAt >= refreshMs) {
        try {
          reload();
        } catch {
          // Keep the last good list if the file is mid-edit or broken; it is re-read next time.
        }
      }
      return set.has(id.toLowerCase());
    },
    add: async (id) => {
      reload();
      set.add(id.toLowerCase());
      writeFileAtomic(path, `${JSON.stringify([...set], null, 1)}\n`);
      mtimeMs = statSync(path).mtimeMs;
    },
  };
}

/** The token authority backed by `dataDir` (what the server uses). */
export function openTokenAuthority(dataDir: string): TokenAuthority {
  return createTokenAuthority({
    masterSecret: loadOrCreateMasterSecret(dataDir),
    revocations: fileRevocationList(dataDir),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  });
}
