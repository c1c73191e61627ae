// Firefox and a challenge split over several header lines (Aperture sends `LSAT …` and `L402 …` as two
// `WWW-Authenticate` lines). Firefox joins such a header with a newline, which the Fetch standard does not allow
// in a header value, so page scripts cannot read it at all (docs/design.md#challenge): only webRequest sees the
// challenge. The page's own fetch and XHR must still end with the paid 200, same-origin and cross-origin.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { startServer } from '../../server/start.ts';
import { lnd } from '../integration/regtest-context.ts';
import { type LaunchedFirefox, launchFirefox } from './fixtures/firefox.ts';
import { type L402TestServer, startL402Service, startSink, type TestServer } from './fixtures/security-servers.ts';
import { autoPay, nwcSettings } from './helpers.ts';

describe('Firefox ESR: a challenge split over header lines (Aperture) is paid for the page', () => {
  let ff: LaunchedFirefox;
  const closers: (() => Promise<unknown>)[] = [];
  const alice = lnd('alice');

  const service = async (exposeChallenge = false): Promise<L402TestServer> => {
    const api = await startL402Service({
      backend: lndBackend(alice),
      priceMsat: 2_000,
      splitLines: true,
      exposeChallenge,
    });
    closers.push(() => api.close());
    return api;
  };
  const succeeded = async (origin: string) =>
    (await ff.ui('listPayments', { origin })).filter((p) => p.status === 'succeeded');
  const withAuth = (api: TestServer) =>
    api.requests.filter((r) => r.path === '/paid' && r.authorization?.startsWith('L402 ')).length;

  beforeAll(async () => {
    ff = await launchFirefox();
  });
  afterAll(async () => {
    await ff?.close();
    for (const c of closers) await c().catch(() => {});
  });

  it("the service's own page: its first fetch resolves with the paid 200, the next one pays nothing", async () => {
    const api = await service();
    await ff.ui('saveSettings', nwcSettings([autoPay(api.url)]));
    const page = await ff.page();
    await page.goto(`${api.url}/page`);
    const call = () =>
      page.evaluate(async () => {
        const r = await fetch('/paid');
        return { status: r.status, body: await r.text() };
      });
    expect(await call()).toEqual({ status: 200, body: '<title>paid</title>paid content' });
    const paid = await succeeded(api.url);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ initiator: api.url, kind: 'l402' });
    expect((await call()).status).toBe(200);
    expect(await succeeded(api.url)).toHaveLength(1);
    expect(withAuth(api)).toBe(2);
    await page.close();
  });

  it("the service's own page: an XMLHttpRequest ends with the paid 200 as well", async () => {
    const api = await service();
    await ff.ui('saveSettings', nwcSettings([autoPay(api.url)]));
    const page = await ff.page();
    await page.goto(`${api.url}/page`);
    const got = await page.evaluate(
      () =>
        new Promise<{ status: number; body: string; loads: number }>((resolve) => {
          const xhr = new XMLHttpRequest();
          let loads = 0;
          xhr.onload = () => {
            loads++;
          };
          xhr.onloadend = () => setTimeout(() => resolve({ status: xhr.status, body: xhr.responseText, loads }), 200);
          xhr.open('GET', '/paid');
          xhr.send();
        }),
    );
    // The page sees one load, of the 200: the 402 before it was held back.
    expect(got).toEqual({ status: 200, body: '<title>paid</title>paid content', loads: 1 });
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it('another site that may read the 402 (CORS exposes the challenge): its first fetch resolves with the paid 200', async () => {
    const api = await service(true);
    const site: TestServer = await startSink();
    closers.push(() => site.close());
    await ff.ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await ff.page();
    await page.goto(`${site.url}/page`);
    const status = () => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
    expect(await status()).toBe(200);
    const paid = await succeeded(api.url);
    expect(paid).toHaveLength(1);
    // Paid from the budget of the page that made the request, not the service's.
    expect(paid[0]?.initiator).toBe(site.url);
    expect(await status()).toBe(200);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it('our server offering L402 (split lines) and x402 (readable): the page pays the L402 token, first fetch 200', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'e2e-ff-split-'));
    const s = await startServer({ config: { port: 0, dataDir, authSchemes: 'l402,x402' }, backend: lndBackend(alice) });
    closers.push(
      () => s.close(),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    const call = () =>
      page.evaluate(async () => {
        const r = await fetch('/v1/similarity', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":[1,0],"b":[0,1]}',
        });
        return { status: r.status, body: await r.text() };
      });
    expect(await call()).toEqual({ status: 200, body: '{"similarity":0}' });
    // The reusable token is chosen over the one-time x402 charge, and serves the next call.
    expect((await succeeded(s.url)).map((p) => p.kind)).toEqual(['l402']);
    expect((await call()).status).toBe(200);
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });
});
