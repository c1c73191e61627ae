// More autopilot browser tests and window.webln, on regtest (server node alice, wallet NWC → bob).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { cosine } from '../../server/similarity/cosine.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { startPageServer } from './fixtures/l402-page-server.ts';
import { autoPay, nextPrompt, nwcSettings, screenshot, type Ui, uiClient } from './helpers.ts';

describe('extension: concurrency, navigation, failures, restart, hostile pages, WebLN', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let dataDir: string;
  const closers: (() => Promise<unknown>)[] = [];

  const freshServer = async (): Promise<RunningServer> => {
    const s = await startServer({
      config: { port: 0, dataDir: await mkdtemp(join(dataDir, 's-')) },
      backend: lndBackend(lnd('alice')),
    });
    closers.push(() => s.close());
    return s;
  };
  const succeeded = async (origin: string) =>
    (await ui('listPayments', { origin })).filter((p) => p.status === 'succeeded');
  const post = (p: Page, url: string) =>
    p.evaluate(async (u) => {
      const r = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2],"b":[2,1]}',
      });
      return r.status;
    }, url);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'e2e-more-'));
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
  });
  afterAll(async () => {
    await ext?.close();
    for (const c of closers) await c().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  it('4. 20 parallel fetches to a fresh service with a budget for 5 → at most 5 paid, no overspend', async () => {
    const s = await freshServer();
    // Each payment reserves 10 sat + the 10 sat fee floor: a budget of 100 sat covers 5.
    const budget = 100_000;
    await ui('saveSettings', nwcSettings([autoPay(s.url, budget)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const statuses = await page.evaluate(async (u) => {
      const one = () =>
        fetch(u, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":[1,2],"b":[2,1]}',
        }).then((r) => r.status);
      return Promise.all(Array.from({ length: 20 }, one));
    }, `${s.url}/v1/similarity`);
    const paid = await succeeded(s.url);
    expect(paid.length).toBeGreaterThanOrEqual(1);
    expect(paid.length).toBeLessThanOrEqual(5);
    expect(paid.reduce((n, p) => n + p.amountMsat + (p.feeMsat ?? 0), 0)).toBeLessThanOrEqual(budget);
    expect(statuses.every((x) => x === 200 || x === 402)).toBe(true);
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThan(0);
    await page.close();
  });

  it("5. a top-level navigation to a priced page (the server's GET /v1/similarity) → paid → the page loads with 200", async () => {
    const s = await freshServer();
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    const url = `${s.url}/v1/similarity?a=1,2,3&b=2,4,6.5`;
    await page.goto(url).catch(() => null); // may be 402, null or ERR_ABORTED (docs/design.md#browser-testing)
    await expect.poll(() => page.locator('#similarity').count(), { timeout: 30_000 }).toBe(1);
    expect(Number(await page.locator('#similarity').textContent())).toBe(
      cosine(new Float64Array([1, 2, 3]), new Float64Array([2, 4, 6.5])),
    );
    expect(page.url()).toBe(url);
    // The document on screen is the paid 200, not a 402 page.
    expect(
      await page.evaluate(
        () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).responseStatus,
      ),
    ).toBe(200);
    const paid = await succeeded(s.url);
    expect(paid).toHaveLength(1);
    expect(paid[0]?.amountMsat).toBe(s.config.pairPriceMsat);
    expect((await lndBackend(lnd('alice')).lookupInvoice(paid[0]?.paymentHash ?? '')).state).toBe('settled');
    await page.close();
  });

  it("5b. the /demo page's 'Open as a page' link → the navigation's 402 is paid → the answer page for the page's vectors", async () => {
    const s = await freshServer();
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/demo`);
    await page.locator('#a').fill('3, 4');
    await page.locator('#b').fill('4, 3');
    await expect.poll(() => page.locator('#open-page').getAttribute('href')).toBe('/v1/similarity?a=3,4&b=4,3');
    await page.locator('#open-page').click();
    await expect.poll(() => page.locator('#similarity').count(), { timeout: 30_000 }).toBe(1);
    expect(Number(await page.locator('#similarity').textContent())).toBeCloseTo(24 / 25, 12);
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });

  it('XHR: a page XMLHttpRequest gets the 200 transparently after an auto-paid 402', async () => {
    const s = await freshServer();
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const r = await page.evaluate(
      (u) =>
        new Promise<{ status: number; events: string[]; body: string }>((resolve) => {
          const events: string[] = [];
          const x = new XMLHttpRequest();
          x.open('POST', u);
          x.setRequestHeader('content-type', 'application/json');
          x.onreadystatechange = () => events.push(`rs${x.readyState}:${x.status}`);
          x.onload = () => resolve({ status: x.status, events, body: x.responseText });
          x.send('{"a":[1,2],"b":[2,1]}');
        }),
      `${s.url}/v1/similarity`,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveProperty('similarity');
    // The page never saw the 402.
    expect(r.events.some((e) => e.endsWith(':402'))).toBe(false);
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });

  it('cross-origin fetch whose challenge the page cannot read → paid from the background, later requests carry the header', async () => {
    const api = await startPageServer({
      backend: lndBackend(lnd('alice')),
      priceMsat: 2_000,
      cors: true,
      exposeChallenge: false,
    });
    closers.push(() => api.close());
    const site = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 });
    closers.push(() => site.close());
    // The budget is the page's (the site the user is on), not the service's (docs/design.md#rules-semantics).
    await ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await ext.page();
    await page.goto(`${site.url}/free`);
    expect(await page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
    await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBe(1);
    await expect
      .poll(() => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`), { timeout: 30_000 })
      .toBe(200);
    expect(await succeeded(api.url)).toHaveLength(1);
    expect((await succeeded(api.url))[0]).toMatchObject({ origin: api.url, initiator: site.url });
    await page.close();
  });

  it.each([
    ['the page can read the challenge', true],
    ['only the browser sees the challenge', false],
  ])(
    "a page cannot spend another site's budget (%s): B → S with budgets for A and S only asks; denied → nothing paid; A → S is paid",
    async (_n, expose) => {
      const api = await startPageServer({
        backend: lndBackend(lnd('alice')),
        priceMsat: 2_000,
        cors: true,
        exposeChallenge: expose,
      });
      closers.push(() => api.close());
      const a = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 });
      closers.push(() => a.close());
      const b = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 });
      closers.push(() => b.close());
      await ui('saveSettings', nwcSettings([autoPay(a.url), autoPay(api.url)]));
      const before = (await ui('listPayments', {})).length;

      // B has no budget: the user is asked, about B paying S, and says no.
      const bp = await ext.page();
      await bp.goto(`${b.url}/free`);
      const prompted = nextPrompt(ext);
      const status = bp.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
      const prompt = await prompted;
      expect(await ui('getPrompt', { id: prompt.id })).toMatchObject({
        kind: 'l402',
        origin: api.url,
        initiator: b.url,
        siteRemainingMsat: null,
      });
      await prompt.page.getByTestId('prompt-who').waitFor();
      expect(await prompt.page.getByTestId('prompt-who').textContent()).toContain(
        `wants to pay ${new URL(api.url).host}`,
      );
      if (expose) await screenshot(prompt.page, 'prompt-cross-site');
      expect(await ui('answerPrompt', { id: prompt.id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
      expect(await status).toBe(402);
      expect(await ui('listPayments', {})).toHaveLength(before);
      expect((await ui('getSiteSummary', { origin: b.url })).spentMsat).toBe(0);
      await bp.close();

      // A, with a budget, calling the same S: paid silently, counted against A's budget.
      const ap = await ext.page();
      await ap.goto(`${a.url}/free`);
      if (expose) expect(await ap.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
      else {
        expect(await ap.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
        await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBe(1);
      }
      expect(await succeeded(api.url)).toHaveLength(1);
      expect((await succeeded(api.url))[0]).toMatchObject({ origin: api.url, initiator: a.url });
      expect((await ui('getSiteSummary', { origin: a.url })).spentMsat).toBeGreaterThanOrEqual(2_000);
      expect((await ui('getSiteSummary', { origin: api.url })).spentMsat).toBe(0);
      await ap.close();
    },
  );

  it('6. wallet unreachable → clear error to the page, budget released, nothing paid', async () => {
    const s = await freshServer();
    const dead = `nostr+walletconnect://${'ab'.repeat(32)}?relay=${encodeURIComponent('ws://127.0.0.1:9')}&secret=${'cd'.repeat(32)}`;
    await ui('saveSettings', nwcSettings([autoPay(s.url)], { wallet: { kind: 'nwc', uri: dead } }));
    const before = await ui('getOverview', {});
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const r = await page.evaluate(async (u) => {
      const why = new Promise<{ code: string; message: string }>((res) =>
        window.addEventListener('l402-autopilot:error', (e) => res((e as CustomEvent).detail), { once: true }),
      );
      const resp = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1],"b":[1]}',
      });
      return { status: resp.status, why: await why };
    }, `${s.url}/v1/similarity`);
    expect(r.status).toBe(402);
    expect(r.why.code).toMatch(/wallet|payment/);
    expect(r.why.message.length).toBeGreaterThan(5);
    expect(await succeeded(s.url)).toHaveLength(0);
    expect((await ui('getOverview', {})).spentTodayMsat).toBe(before.spentTodayMsat);
    await page.close();
  });

  it('7. service worker stopped during a payment → on restart the preimage is recovered, no double payment', async () => {
    const s = await freshServer();
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/health`);
    const first = post(page, `${s.url}/v1/similarity`);
    // Stop the worker as soon as the pending record is persisted (before or while the wallet pays).
    await expect
      .poll(async () => (await ui('listPayments', { origin: s.url })).length, { interval: 10, timeout: 30_000 })
      .toBe(1);
    const statusAtStop = (await ui('listPayments', { origin: s.url }))[0]?.status;
    await ext.stopServiceWorker();
    console.info(`test 7: payment status when the worker was stopped: ${statusAtStop}`);
    await first.catch(() => null);
    await ext.readyWorker();
    const ui2 = (await uiClient(ext)).ui;
    await expect
      .poll(async () => (await ui2('listPayments', { origin: s.url }))[0]?.status, { timeout: 60_000 })
      .toBe('succeeded');
    const rec = (await ui2('listPayments', { origin: s.url }))[0];
    expect(rec?.preimage).toMatch(/^[0-9a-f]{64}$/);
    // The recovered token serves the next call: still one payment.
    expect(await post(page, `${s.url}/v1/similarity`)).toBe(200);
    expect(await ui2('listPayments', { origin: s.url })).toHaveLength(1);
    ui = ui2;
    await page.close();
  });

  it("8. hostile page: forged bridge messages, another origin's token, hash mismatch → nothing paid, nothing leaked", async () => {
    const victim = await freshServer();
    const bad = await startPageServer({
      backend: lndBackend(lnd('alice')),
      priceMsat: 2_000,
      mode: 'mismatch',
      cors: true,
    });
    closers.push(() => bad.close());
    const evil = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 });
    closers.push(() => evil.close());
    await ui('saveSettings', nwcSettings([autoPay(victim.url), autoPay(bad.url), autoPay(evil.url)]));
    // The victim site buys a token.
    const vp = await ext.page();
    await vp.goto(`${victim.url}/health`);
    expect(await post(vp, `${victim.url}/v1/similarity`)).toBe(200);
    const live = async () => (await ui('listPayments', {})).filter((p) => p.status !== 'failed').length;
    const paidBefore = await live();

    // A real, well-formed challenge obtained OUTSIDE the browser: the page will claim it came from the victim.
    const stolen = (await fetch(`${evil.url}/paid`)).headers.get('www-authenticate') ?? '';
    expect(stolen).toMatch(/^L402 /);
    const hp = await ext.page();
    await hp.goto(`${evil.url}/free`);
    const out = await hp.evaluate(
      async ([victimUrl, badUrl, www, evilUrl]) => {
        const CH = 'l402-autopilot/v1';
        const ask = (method: string, arg: unknown, extra: Record<string, unknown> = {}) =>
          new Promise<unknown>((resolve) => {
            const id = `x${Math.random()}`.slice(0, 20);
            const on = (e: MessageEvent) => {
              if (e.data?.ch === CH && e.data.kind === 'res' && e.data.id === id) {
                window.removeEventListener('message', on);
                resolve(e.data.result);
              }
            };
            window.addEventListener('message', on);
            window.postMessage({ ch: CH, kind: 'req', id, method, arg, ...extra }, location.origin);
            setTimeout(() => resolve('no answer'), 3000);
          });
        return {
          // Another origin's token: refused although the page names the victim's URL.
          tokenOfOther: await ask('authorizationFor', { url: `${victimUrl}/v1/similarity` }),
          // Claiming an origin in the payload changes nothing (unknown field refused).
          spoofedOrigin: await ask('authorizationFor', { url: `${victimUrl}/v1/similarity`, origin: victimUrl }),
          // UiApi methods are not reachable from a page.
          uiMethod: await ask('listTokens', {}),
          settings: await ask('getSettings', {}),
          // An invented 402 "from" the victim, with the attacker's real invoice (this page has an auto-pay budget).
          invented: await ask('challenge', {
            url: `${victimUrl}/v1/similarity`,
            method: 'POST',
            wwwAuthenticate: [www],
          }),
          // Same for its own origin: the browser never delivered that 402 to this tab.
          inventedOwn: await ask('challenge', {
            url: `${evilUrl}/paid`,
            method: 'GET',
            wwwAuthenticate: [www],
          }),
          // A 402 whose invoice hash does not match the macaroon: fetch through the wrapper.
          mismatch: await fetch(`${badUrl}/paid`).then((r) => r.status),
        };
      },
      [victim.url, bad.url, stolen, evil.url] as const,
    );
    expect(out.invented).toMatchObject({ ok: false, error: { code: 'invalid_challenge' } });
    expect(out.inventedOwn).toMatchObject({ ok: false, error: { code: 'invalid_challenge' } });
    expect(out.tokenOfOther).toEqual({ ok: true, value: { authorization: null } });
    expect(out.spoofedOrigin).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(out.uiMethod).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(out.settings).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(out.mismatch).toBe(402);
    // Give the background a moment to (not) act on the cross-origin 402 it also saw, then check nothing moved.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await live()).toBe(paidBefore);
    expect(await succeeded(bad.url)).toHaveLength(0);
    await hp.close();
    await vp.close();
  });

  it('window.webln: enable() → permission prompt → sendPayment paid under the rules', async () => {
    const ps = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 });
    closers.push(() => ps.close());
    await ui('saveSettings', nwcSettings([autoPay(ps.url)], { webln: 'always' }));
    const page = await ext.page();
    await page.goto(`${ps.url}/free`);
    await expect.poll(() => page.evaluate(() => 'webln' in window)).toBe(true);
    const enabling = page.evaluate(() => (window as unknown as { webln: { enable(): Promise<void> } }).webln.enable());
    const prompt = await nextPrompt(ext);
    await screenshot(prompt.page, 'prompt-webln-enable');
    expect((await ui('getPrompt', { id: prompt.id }))?.kind).toBe('webln-enable');
    await ui('answerPrompt', { id: prompt.id, answer: { choice: 'approve-once' } });
    await enabling;
    const alice = lndBackend(lnd('alice'));
    const invoice = await alice.createInvoice(5_000, 'webln e2e', 600);
    const r = await page.evaluate(
      (pr) =>
        (window as unknown as { webln: { sendPayment(p: string): Promise<{ preimage: string }> } }).webln.sendPayment(
          pr,
        ),
      invoice.paymentRequest,
    );
    expect(r.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect((await alice.lookupInvoice(invoice.paymentHash)).state).toBe('settled');
    await page.close();
  });

  it('window.webln: a provider already on the page is left alone when the setting says so', async () => {
    const ps = await startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 });
    closers.push(() => ps.close());
    await ui('saveSettings', nwcSettings([], { webln: 'when-absent' }));
    const page = await ext.page();
    await page.addInitScript(() => {
      (window as unknown as { webln: unknown }).webln = {
        other: true,
        enable: async () => {},
        sendPayment: async () => ({ preimage: '' }),
      };
    });
    await page.goto(`${ps.url}/free`);
    await new Promise((r) => setTimeout(r, 500)); // past our hello round trip
    expect(await page.evaluate(() => (window as unknown as { webln: { other?: boolean } }).webln.other)).toBe(true);
    await page.close();
  });
});
