import { describe, expect, it } from 'vitest';
import { parseL402Challenge } from '../src/l402/index.ts';
import { startServer } from './start.ts';
import { tempDir } from '../test/support/server-fixtures.ts';

describe('startServer', () => {
  it('listens on a free loopback port with the dev backend and serves a paid round trip', async () => {
    const s = await startServer({ config: { dataDir: tempDir(), logRequests: false } });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(s.network).toBe('regtest');
      expect(await (await fetch(`${s.url}/health`)).json()).toMatchObject({ status: 'ok' });
      const body = JSON.stringify({ a: [1, 2], b: [2, 1] });
      const json = { 'content-type': 'application/json' };
      const first = await fetch(`${s.url}/v1/similarity`, { method: 'POST', body, headers: json });
      expect(first.status).toBe(402);
      const c = parseL402Challenge(first.headers.get('www-authenticate') ?? '');
      const preimage = await s.devWallet!.pay(c.invoice);
      const paid = await fetch(`${s.url}/v1/similarity`, {
        method: 'POST',
        body,
        headers: { ...json, authorization: `L402 ${c.macaroon}:${preimage}` },
      });
      expect(paid.status).toBe(200);
      expect((await paid.json()).similarity).toBeCloseTo(0.8, 12);
      const l402 = await (await fetch(`${s.url}/.well-known/l402.json`)).json();
      expect(l402.l402.network).toBe('regtest');
      expect((await fetch(`${s.url}/demo`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
