import { statSync } from 'node:fs';
import { join } from 'node:path';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/l402/index.ts';
import { tempDir } from '../../test/support/server-fixtures.ts';
import { createTokenAuthority, memoryRevocationList } from './token-authority.ts';
import { fileRevocationList, loadOrCreateMasterSecret, openTokenAuthority } from './token-files.ts';

describe('token authority', () => {
  it('derives root key = HMAC-SHA256(master, token id)', () => {
    const master = new Uint8Array(32).fill(9);
    const t = createTokenAuthority({ masterSecret: master, revocations: memoryRevocationList() });
    const id = t.newTokenId();
    expect(id).toHaveLength(32);
    expect(bytesToHex(t.rootKeyFor(id))).toBe(bytesToHex(hmac(sha256, master, id)));
  });

  it('creates the master secret once with mode 0600 and keeps it', () => {
    const dir = tempDir();
    const a = loadOrCreateMasterSecret(dir);
    expect(statSync(join(dir, 'master-secret.hex')).mode & 0o777).toBe(0o600);
    expect(bytesToHex(loadOrCreateMasterSecret(dir))).toBe(bytesToHex(a));
  });

  it('persists revocations and validates token ids', async () => {
    const dir = tempDir();
    const id = 'ab'.repeat(32);
    await openTokenAuthority(dir).revoke(id.toUpperCase());
    expect(openTokenAuthority(dir).isRevoked(id)).toBe(true);
    expect(openTokenAuthority(dir).isRevoked('cd'.repeat(32))).toBe(false);
    await expect(openTokenAuthority(dir).revoke('xyz')).rejects.toThrow(/64 hex/);
  });

  it('lets a running server see ids revoked by another process', async () => {
    const dir = tempDir();
    const running = fileRevocationList(dir, 0);
    expect(running.has('ef'.repeat(32))).toBe(false);
    await fileRevocationList(dir).add('ef'.repeat(32));
    expect(running.has('ef'.repeat(32))).toBe(true);
  });
});
