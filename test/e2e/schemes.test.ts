// The extension pays every Lightning scheme our server offers, on regtest (server node alice, wallet NWC → bob):
// the `Payment` scheme's one-time charge and x402's Lightning `exact` offer, each for a page's fetch and for a
// navigation, a 401 re-challenge (bLIP-0026) paid transparently, and an x402 offer on another network shown to the
// page and never paid.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../server/config.ts';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { cosine } from '../../server/similarity/cosine.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { parsePaymentReceipt } from '../../src/l402/index.ts';
import { BIP122_NETWORKS } from '../../src/l402/x402.ts';
import { lnd } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { autoPay, nwcSettings, type Ui, uiClient } from './helpers.ts';

describe('extension pays the Payment charge, x402 Lightning and L402 re-challenges, and names what it will not pay', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let dataDir: string;
  const closers: (() => Promise<unknown>)[] = [];

  const freshServer = async (config: Partial<ServerConfig>, clock?: () => number): Promise<RunningServer> => {
    const s = await startServer({
      config: { port: 0, dataDir: await mkdtemp(join(dataDir, 's-')), ...config },
      backend: lndBackend(lnd('alice')),
      ...(clock ? { clock } : {}),
    });
    closers.push(() => s.close());
    return s;
  };
  const payments = (origin: string) => ui('listPayments', { origin });
  /** The page's own fetch, as page code would write it; returns what the page sees. */
  const post = (p: Page, url: string) =>
    p.evaluate(async (u) => {
      const r = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2,3],"b":[2,4,6.5]}',
      });
      return {
        status: r.status,
        body: await r.text(),
        receipt: r.headers.get('payment-receipt'),
        settlement: r.headers.get('payment-response'),
      };
    }, url);
  const sessionRules = () => ext.worker.evaluate(() => chrome.declarativeNetRequest.getSessionRules());

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'e2e-schemes-'));
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
  });
  afterAll(async () => {
    await ext?.close();
    for (const c of closers) await c().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  it("a page's fetch is paid through the Payment charge: 200 with a receipt, ledger kind 'payment', no token kept", async () => {
    const s = await freshServer({ authSchemes: 'payment' });
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const r = await post(page, `${s.url}/v1/similarity`);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { similarity: number }).similarity).toBeCloseTo(
      cosine(new Float64Array([1, 2, 3]), new Float64Array([2, 4, 6.5])),
      12,
    );
    expect(parsePaymentReceipt(r.receipt ?? '').status).toBe('success');
    const paid = await payments(s.url);
    expect(paid.map((p) => [p.kind, p.status, p.macaroon])).toEqual([['payment', 'succeeded', null]]);
    expect((await s.backend.lookupInvoice(paid[0]?.paymentHash ?? '')).state).toBe('settled');
    // A charge is one-time: nothing is kept to attach, and the next call is a new charge.
    expect((await ui('listTokens', {})).filter((t) => t.origin === s.url)).toEqual([]);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200);
    expect((await payments(s.url)).filter((p) => p.status === 'succeeded')).toHaveLength(2);
    await page.close();
  });

  it('offered both, the reusable L402 token is bought (one payment serves two calls), never both options', async () => {
    const s = await freshServer({ authSchemes: 'l402,payment' });
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200);
    expect((await payments(s.url)).map((p) => [p.kind, p.status])).toEqual([['l402', 'succeeded']]);
    await page.close();
  });

  it.each([
    { scheme: 'payment', what: 'the Payment charge', header: 'Authorization: Payment' },
    { scheme: 'x402', what: 'x402 Lightning', header: 'PAYMENT-SIGNATURE' },
  ] as const)(
    'a navigation is paid through $what; its one-time $header rule is gone after that one request',
    async ({ scheme }) => {
      const s = await freshServer({ authSchemes: scheme });
      await ui('saveSettings', nwcSettings([autoPay(s.url)]));
      const page = await ext.page();
      const url = `${s.url}/v1/similarity?a=1,2,3&b=2,4,6.5`;
      await page.goto(url).catch(() => null); // may be 402, null or ERR_ABORTED while the extension reloads it
      await expect.poll(() => page.locator('#similarity').count(), { timeout: 30_000 }).toBe(1);
      expect(page.url()).toBe(url);
      expect(
        await page.evaluate(
          () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).responseStatus,
        ),
      ).toBe(200);
      expect((await payments(s.url)).map((p) => [p.kind, p.status])).toEqual([[scheme, 'succeeded']]);
      await expect.poll(sessionRules).toEqual([]);
      // Loading it again does not replay the spent charge: the server asks again, and it is paid again, once.
      await page.goto(url).catch(() => null);
      await expect
        .poll(async () => (await payments(s.url)).filter((p) => p.status === 'succeeded').length, { timeout: 30_000 })
        .toBe(2);
      await expect.poll(() => page.locator('#similarity').count(), { timeout: 30_000 }).toBe(1);
      await page.close();
    },
  );

  it("a page's fetch is paid through x402 Lightning: 200 with a PAYMENT-RESPONSE, ledger kind 'x402', no token kept", async () => {
    const s = await freshServer({ authSchemes: 'x402' });
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const r = await post(page, `${s.url}/v1/similarity`);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { similarity: number }).similarity).toBeGreaterThan(0.99);
    const settlement = JSON.parse(Buffer.from(r.settlement ?? '', 'base64').toString('utf8')) as {
      success: boolean;
      network: string;
    };
    expect(settlement.success).toBe(true);
    expect(BIP122_NETWORKS[settlement.network]).toBe('regtest');
    const paid = await payments(s.url);
    expect(paid.map((p) => [p.kind, p.status, p.macaroon])).toEqual([['x402', 'succeeded', null]]);
    expect((await s.backend.lookupInvoice(paid[0]?.paymentHash ?? '')).state).toBe('settled');
    expect((await ui('listTokens', {})).filter((t) => t.origin === s.url)).toEqual([]);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200);
    expect((await payments(s.url)).filter((p) => p.status === 'succeeded')).toHaveLength(2);
    await page.close();
  });

  it('offered L402 and x402, the reusable L402 token is bought; offered Payment and x402, only one is paid', async () => {
    const both = await freshServer({ authSchemes: 'l402,x402' });
    const charges = await freshServer({ authSchemes: 'payment,x402' });
    await ui('saveSettings', nwcSettings([autoPay(both.url), autoPay(charges.url)]));
    const page = await ext.page();
    await page.goto(`${both.url}/health`);
    expect((await post(page, `${both.url}/v1/similarity`)).status).toBe(200);
    expect((await post(page, `${both.url}/v1/similarity`)).status).toBe(200);
    expect((await payments(both.url)).map((p) => [p.kind, p.status])).toEqual([['l402', 'succeeded']]);
    await page.goto(`${charges.url}/health`);
    expect((await post(page, `${charges.url}/v1/similarity`)).status).toBe(200);
    // Same price: the server's order (WWW-Authenticate's Payment line before PAYMENT-REQUIRED) breaks the tie.
    expect((await payments(charges.url)).map((p) => [p.kind, p.status])).toEqual([['payment', 'succeeded']]);
    await page.close();
  });

  it("a page's cross-origin fetch is paid through x402 Lightning: CORS lets it read the offer and send the signature", async () => {
    const site = await freshServer({});
    const api = await freshServer({ authSchemes: 'x402' });
    // The budget is the page's (the site the user is on), not the service's (docs/design.md#rules-semantics).
    await ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await ext.page();
    await page.goto(`${site.url}/health`);
    const r = await post(page, `${api.url}/v1/similarity`);
    expect(r.status).toBe(200);
    expect(JSON.parse(Buffer.from(r.settlement ?? '', 'base64').toString('utf8'))).toMatchObject({ success: true });
    expect((await payments(api.url)).map((p) => [p.kind, p.status, p.initiator])).toEqual([
      ['x402', 'succeeded', site.url],
    ]);
    await page.close();
  });

  it('a 401 re-challenge (the server says the token expired) is paid transparently: the page gets its 200', async () => {
    let ahead = 0;
    const s = await freshServer({ authSchemes: 'l402', invalidCredentialStatus: 401 }, () => Date.now() + ahead);
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200);
    expect((await post(page, `${s.url}/v1/similarity`)).status).toBe(200); // the token serves again
    expect(await payments(s.url)).toHaveLength(1);
    // The server's clock runs past the token's lifetime; the browser still holds it and sends it.
    ahead = (s.config.tokenLifetimeSeconds + 60) * 1000;
    const r = await post(page, `${s.url}/v1/similarity`);
    expect(r.status).toBe(200);
    const paid = await payments(s.url);
    expect(paid.map((p) => [p.kind, p.status])).toEqual([
      ['l402', 'succeeded'],
      ['l402', 'succeeded'],
    ]);
    expect(new Set(paid.map((p) => p.paymentHash)).size).toBe(2);
    await page.close();
  });

  it('an x402 402 on a non-Lightning network is named to the page, not counted as payable, never paid', async () => {
    const required = Buffer.from(
      JSON.stringify({
        x402Version: 2,
        accepts: [
          {
            scheme: 'exact',
            network: 'eip155:8453',
            amount: '10000',
            asset: 'USDC',
            payTo: '0x0000000000000000000000000000000000000001',
          },
        ],
      }),
    ).toString('base64');
    let asked = 0;
    const srv = createServer((req, res) => {
      if (req.url === '/x402') {
        asked++;
        return res.writeHead(402, { 'content-type': 'application/json', 'payment-required': required }).end('{}');
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end('<title>free</title><h1>free</h1>');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => srv.close(r)));
    const origin = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    await ui('saveSettings', nwcSettings([autoPay(origin)]));
    const page = await ext.page();
    await page.goto(`${origin}/free`);
    const seen = await page.evaluate(async (u) => {
      const error = new Promise<{ code: string; message: string }>((resolve) =>
        window.addEventListener(
          'l402-autopilot:error',
          (e) => resolve((e as CustomEvent<{ code: string; message: string }>).detail),
          { once: true },
        ),
      );
      const r = await fetch(u);
      return { status: r.status, error: await error };
    }, `${origin}/x402`);
    expect(seen.status).toBe(402);
    expect(seen.error.code).toBe('unsupported_challenge');
    expect(seen.error.message).toContain('x402 exact on eip155:8453 (USDC)');
    expect(asked).toBe(1); // no retry, nothing paid
    expect(await payments(origin)).toEqual([]);
    const tabId = await ext.worker.evaluate(
      async (u) => (await chrome.tabs.query({})).find((t) => t.url === u)?.id ?? -1,
      page.url(),
    );
    expect((await ui('getSiteSummary', { origin, tabId })).challengesSeen).toBe(0);
    await page.close();
  });
});
