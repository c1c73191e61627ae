import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHome, readSecret, writeSecret } from './home.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the wallet secret file', () => {
  it('is written 0600 in a 0700 directory, replaced on reconnect, and read back', () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-home-'));
    dirs.push(root);
    const home = openHome(join(root, 'data'));
    expect(statSync(home.dir).mode & 0o777).toBe(0o700);
    writeSecret(home.walletFile, 'nostr+walletconnect://one');
    writeSecret(home.walletFile, 'nostr+walletconnect://two');
    expect(statSync(home.walletFile).mode & 0o777).toBe(0o600);
    expect(readSecret(home.walletFile)).toBe('nostr+walletconnect://two');
  });

  it('is refused when others can read it, and absent means no wallet', () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-home-'));
    dirs.push(root);
    const home = openHome(root);
    expect(readSecret(home.walletFile)).toBeNull();
    writeSecret(home.walletFile, 'nostr+walletconnect://x');
    chmodSync(home.walletFile, 0o644);
    expect(() => readSecret(home.walletFile)).toThrow(/readable by other users/);
  });
});
