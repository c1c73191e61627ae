// Two server instances on one PostgreSQL database (a throwaway cluster started here): a revocation on one is
// honoured by the other, a one-time charge spent on one is refused on the other, and while the database
// restarts paid requests with known tokens still pass and what needs the database fails as unavailable.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMacaroon, parseL402Challenge } from '../../src/l402/index.ts';
import { type RunningServer, startServer } from '../start.ts';
import { PAIR, tempDir } from '../../test/support/server-fixtures.ts';
import { type PgCluster, startPgCluster } from '../../test/support/pg-cluster.ts';
import { StoreUnavailableError } from './shared-store.ts';
import { loadOrCreateMasterSecret } from './token-files.ts';

const json = { 'content-type': 'application/json' };
const ask = (s: RunningServer, authorization?: string): Promise<Response> =>
  fetch(`${s.url}/v1/similarity`, {
    method: 'POST',
    headers: { ...json, ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(PAIR),
  });

async function buy(s: RunningServer): Promise<{ authorization: string; tokenId: string }> {
  const res = await ask(s);
  expect(res.status).toBe(402);
  const c = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
  const preimage = await s.devWallet!.pay(c.invoice);
  return { authorization: `L402 ${c.macaroon}:${preimage}`, tokenId: decodeMacaroon(c.macaroon).tokenId };
}

const hexId = (n: number): string => n.toString(16).padStart(64, '0');

describe('shared store on PostgreSQL: two instances', () => {
  let pg: PgCluster;
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    pg = await startPgCluster();
    // Separate data dirs (as on two machines) with the same master secret, so each verifies the other's tokens.
    const dirA = tempDir();
    const dirB = tempDir();
    loadOrCreateMasterSecret(dirA);
    copyFileSync(join(dirA, 'master-secret.hex'), join(dirB, 'master-secret.hex'));
    a = await startServer({ config: { dataDir: dirA, logRequests: false, sharedStoreUrl: pg.url } });
    b = await startServer({ config: { dataDir: dirB, logRequests: false, sharedStoreUrl: pg.url } });
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    pg?.destroy();
  });

  it('a token revoked on one instance is refused by the other', async () => {
    // Bought on A (its dev wallet), used on B: nothing per token is shared but the master secret.
    const { authorization, tokenId } = await buy(a);
    expect((await ask(b, authorization)).status).toBe(200);
    await a.tokens.revoke(tokenId);
    expect((await ask(a, authorization)).status).toBe(402);
    await expect
      .poll(async () => (await (await ask(b, authorization)).json()).rejected?.code, { timeout: 5000, interval: 50 })
      .toBe('token_revoked');
  });

  it('a one-time charge spent on one instance is refused on the other', async () => {
    const id = hexId(7);
    expect(await a.sharedStore!.spendOnce(id)).toBe(true);
    expect(await b.sharedStore!.spendOnce(id)).toBe(false);
    expect(await a.sharedStore!.spendOnce(id)).toBe(false);
    expect(await b.sharedStore!.spendOnce(hexId(8))).toBe(true);
  });

  it('keeps serving known tokens while the database restarts; what needs it fails as unavailable, then recovers', async () => {
    const { authorization, tokenId } = await buy(a);
    expect((await ask(b, authorization)).status).toBe(200);
    const revokedEarlier = await buy(a);
    await b.tokens.revoke(revokedEarlier.tokenId);
    await expect
      .poll(async () => (await (await ask(a, revokedEarlier.authorization)).json()).rejected?.code, {
        timeout: 5000,
        interval: 50,
      })
      .toBe('token_revoked');
    pg.stop();
    try {
      expect((await ask(a, authorization)).status).toBe(200);
      expect((await ask(b, authorization)).status).toBe(200);
      expect((await (await ask(a, revokedEarlier.authorization)).json()).rejected?.code).toBe('token_revoked');
      await expect(a.sharedStore!.spendOnce(hexId(9))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(b.tokens.revoke(tokenId)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      pg.start();
    }
    await expect
      .poll(() => a.sharedStore!.spendOnce(hexId(9)).catch(() => null), { timeout: 10_000, interval: 100 })
      .toBe(true);
    await b.tokens.revoke(tokenId);
    await expect
      .poll(async () => (await (await ask(a, authorization)).json()).rejected?.code, { timeout: 5000, interval: 50 })
      .toBe('token_revoked');
  }, 60_000);

  it('refuses to start with a wrong password (SCRAM-SHA-256 login)', async () => {
    const wrong = pg.url.replace(`:${pg.password}@`, ':not-the-password@');
    await expect(
      startServer({ config: { dataDir: tempDir(), logRequests: false, sharedStoreUrl: wrong } }),
    ).rejects.toThrow(/password authentication failed/);
  });

  it('refuses to start when the database cannot be reached', async () => {
    await expect(
      startServer({
        config: { dataDir: tempDir(), logRequests: false, sharedStoreUrl: 'postgres://postgres@127.0.0.1:1/postgres' },
      }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
