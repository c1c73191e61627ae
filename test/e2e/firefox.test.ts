// The Firefox build, run for real: Debian's Firefox ESR (over WebDriver BiDi, fixtures/firefox.ts) with
// dist/firefox installed, our server on regtest (lnd backend = alice), the extension's wallet = NWC to bob
// through the local ws:// relay. The same three roads as in Chromium: the MAIN-world wrapper's retry, a paid
// top-level navigation (webRequest + a DNR rule + tabs.update), and a cross-origin request whose challenge
// only the background can read (Firefox names the page in documentUrl, not initiator) — whose header must not
// follow the tab to the next site; plus the prompt window and window.webln.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../server/config.ts';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd } from '../integration/regtest-context.ts';
import { type LaunchedFirefox, launchFirefox } from './fixtures/firefox.ts';
import { startL402Service, startSink, type TestServer } from './fixtures/security-servers.ts';
import { autoPay, nwcSettings } from './helpers.ts';

describe('Firefox ESR: the extension pays L402 on regtest', () => {
  let ff: LaunchedFirefox;
  const closers: (() => Promise<unknown>)[] = [];
  const alice = lnd('alice');

  const server = async (config: Partial<ServerConfig> = {}): Promise<RunningServer> => {
    const dataDir = await mkdtemp(join(tmpdir(), 'e2e-ff-'));
    const s = await startServer({ config: { port: 0, dataDir, ...config }, backend: lndBackend(alice) });
    closers.push(
      () => s.close(),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    return s;
  };
  const succeeded = async (origin: string) =>
    (await ff.ui('listPayments', { origin })).filter((p) => p.status === 'succeeded');

  /** Resolves with `what` once `check` holds (polled), to race a prompt against a silent payment. */
  const once = async <T>(check: () => Promise<boolean>, what: T): Promise<T> => {
    for (;;) {
      if (await check().catch(() => false)) return what;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const paidTo = async (origin: string) =>
    (await ff.ui('listPayments', { origin })).filter((p) => p.status !== 'failed').length > 0;
  /** Tabs a test opened itself; windows its pages opened are kept in each page's `opened` array. */
  const opened: Page[] = [];
  let walkOn: ((step: number) => Promise<void>) | null = null;
  /** Opens `site`/page in a fresh tab and runs `act(url)` there (it may open windows into `window.opened`). */
  const openerPage = async (site: string, act: (url: string) => void, url: string): Promise<Page> => {
    const page = await ff.page();
    opened.push(page);
    await page.goto(`${site}/page`);
    await page.evaluate(() => {
      (window as unknown as { opened: Window[] }).opened = [];
    });
    await page.evaluate(act, url);
    return page;
  };
  /**
   * Leaves nothing behind for the next test: the windows the pages opened and the tabs themselves are closed, and
   * every prompt still open is denied (a prompt left open queues the next test's prompt behind it).
   */
  const cleanUpWindows = async () => {
    walkOn = null;
    await ff.denyOpenPrompts();
    for (const page of opened.splice(0)) {
      await page
        .evaluate(() => {
          for (const w of (window as unknown as { opened?: Window[] }).opened ?? []) w.close();
        })
        .catch(() => undefined);
      await page.close().catch(() => undefined);
    }
    // Windows opened where no `opened` list sees them (a sandboxed frame's popup): every web tab goes.
    for (const page of await ff.browser.pages()) {
      const href = await page.evaluate(() => location.href).catch(() => '');
      if (/^(https?:|data:|about:blank)/.test(href)) await page.close().catch(() => undefined);
    }
    await ff.denyOpenPrompts();
  };

  /** A server answering every GET with `html`. */
  const startHtmlServer = async (html: string) => {
    const srv = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`,
      close: () => new Promise<void>((r) => srv.close(() => r())),
    };
  };

  beforeAll(async () => {
    ff = await launchFirefox();
  });
  afterAll(async () => {
    await ff?.close();
    for (const c of closers) await c().catch(() => {});
  });

  it("a page's fetch is auto-paid and retried: the page gets 200, alice settled, the next call pays nothing", async () => {
    const s = await server();
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    const call = () =>
      page.evaluate(async () => {
        const r = await fetch('/v1/similarity', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":[1,2,3],"b":[2,4,6.5]}',
        });
        return { status: r.status, body: await r.text() };
      });
    const first = await call();
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).similarity).toBeCloseTo(29.5 / Math.sqrt(14 * 62.25), 12);
    const paid = await succeeded(s.url);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ amountMsat: 10_000, initiator: s.url, kind: 'l402' });
    expect((await alice.lookupInvoice(paid[0]?.paymentHash ?? '')).state).toBe('SETTLED');

    expect((await call()).status).toBe(200);
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });

  it("the Payment scheme's one-time charge: a page's fetch and a navigation are each paid once, no token kept", async () => {
    const s = await server({ authSchemes: 'payment' });
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    const r = await page.evaluate(async () => {
      const res = await fetch('/v1/similarity', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2,3],"b":[2,4,6.5]}',
      });
      return { status: res.status, receipt: res.headers.get('payment-receipt') };
    });
    expect(r.status).toBe(200);
    expect(r.receipt).toBeTruthy();
    expect((await succeeded(s.url)).map((p) => p.kind)).toEqual(['payment']);
    expect((await ff.ui('listTokens', {})).filter((t) => t.origin === s.url)).toEqual([]);
    const url = `${s.url}/v1/similarity?a=1,2,3&b=2,4,6.5`;
    await page.goto(url).catch(() => null);
    await expect
      .poll(() => page.evaluate(() => document.querySelector('#similarity') !== null), { timeout: 30_000 })
      .toBe(true);
    expect((await succeeded(s.url)).map((p) => p.kind)).toEqual(['payment', 'payment']);
    await page.close();
  });

  it("x402 Lightning: a page's fetch and a navigation are each paid once, with a PAYMENT-RESPONSE, no token kept", async () => {
    const s = await server({ authSchemes: 'x402' });
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    const r = await page.evaluate(async () => {
      const res = await fetch('/v1/similarity', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2,3],"b":[2,4,6.5]}',
      });
      return { status: res.status, settlement: res.headers.get('payment-response') };
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(Buffer.from(r.settlement ?? '', 'base64').toString('utf8'))).toMatchObject({ success: true });
    const paid = await succeeded(s.url);
    expect(paid.map((p) => p.kind)).toEqual(['x402']);
    expect((await alice.lookupInvoice(paid[0]?.paymentHash ?? '')).state).toBe('SETTLED');
    expect((await ff.ui('listTokens', {})).filter((t) => t.origin === s.url)).toEqual([]);
    const url = `${s.url}/v1/similarity?a=1,2,3&b=2,4,6.5`;
    await page.goto(url).catch(() => null);
    await expect
      .poll(() => page.evaluate(() => document.querySelector('#similarity') !== null), { timeout: 30_000 })
      .toBe(true);
    expect((await succeeded(s.url)).map((p) => p.kind)).toEqual(['x402', 'x402']);
    await page.close();
  });

  it('a site without a rule: the prompt window opens in Firefox, shows the request, and Approve pays', async () => {
    const s = await server();
    await ff.ui('saveSettings', nwcSettings([]));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    const call = page.evaluate(async () => {
      const r = await fetch('/v1/similarity', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,0],"b":[0,1]}',
      });
      return { status: r.status, body: await r.text() };
    });
    const prompt = await ff.nextPrompt();
    expect(await ff.ui('getPrompt', { id: prompt.id })).toMatchObject({
      origin: s.url,
      initiator: s.url,
      amountMsat: 10_000,
    });
    // The window renders the request for the user (site and amount), from the typed background API.
    await expect.poll(() => prompt.page.evaluate(() => document.body?.textContent ?? '')).toContain('10 sats');
    // Approve arms once the window has been visible and focused for a moment (docs/security.md "Prompt keyjacking").
    await expect
      .poll(() => prompt.page.evaluate(() => document.querySelector<HTMLButtonElement>('button.primary')?.disabled))
      .toBe(false);
    mkdirSync('test-results', { recursive: true });
    await prompt.page.screenshot({ path: 'test-results/firefox-prompt.png' });
    expect(await ff.ui('answerPrompt', { id: prompt.id, answer: { choice: 'approve-once' } })).toEqual({
      accepted: true,
    });
    expect(await call).toEqual({ status: 200, body: '{"similarity":0}' });
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });

  it('a top-level navigation to a priced URL is paid, and the tab reloads with the answer', async () => {
    const s = await server();
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ff.page();
    await page.goto(`${s.url}/v1/similarity?a=3,4&b=4,3`).catch(() => {}); // the 402 page, then the reload
    await expect
      .poll(() => page.evaluate(() => document.body?.textContent ?? ''), { timeout: 30_000 })
      .toContain('Cosine similarity');
    expect(await page.evaluate(() => document.body.textContent)).toContain('0.96');
    expect(await succeeded(s.url)).toHaveLength(1);
    await page.close();
  });

  // Firefox names who started a navigation in originUrl (no `initiator`): a page's about:blank window, or a data:
  // document, must read as opaque, never as "no initiator" (the browser's own, which the service's budget pays).
  // Placed before the tests that follow on purpose: it closes every window it opened and answers every prompt.
  type Walk = { how: string; start: (evil: string, paid: (step: number) => string) => Promise<{ steps: number }> };
  it.each<Walk>([
    {
      how: 'window.open of the paid URL',
      start: async (evil, paid) => {
        await openerPage(
          evil,
          (u) => {
            (window as unknown as { opened: Window[] }).opened.push(window.open(u, '_blank') as Window);
          },
          paid(1),
        );
        return { steps: 1 };
      },
    },
    {
      how: 'an about:blank window the page opens, then navigates from the opener',
      start: async (evil, paid) => {
        await openerPage(
          evil,
          (u) => {
            const w = window.open('about:blank', '_blank') as Window;
            (window as unknown as { opened: Window[] }).opened.push(w);
            w.location.href = u;
          },
          paid(1),
        );
        return { steps: 1 };
      },
    },
    {
      how: 'an about:blank window the page opens, whose own script navigates it',
      start: async (evil, paid) => {
        await openerPage(
          evil,
          (u) => {
            const w = window.open('about:blank', '_blank') as Window & { eval(code: string): unknown };
            (window as unknown as { opened: Window[] }).opened.push(w);
            w.eval(`location.href = ${JSON.stringify(u)}`);
          },
          paid(1),
        );
        return { steps: 1 };
      },
    },
    {
      how: 'an opened window whose location the opener walks through three paid paths',
      start: async (evil, paid) => {
        const page = await openerPage(
          evil,
          (u) => {
            (window as unknown as { opened: Window[] }).opened.push(window.open(u, '_blank') as Window);
          },
          paid(1),
        );
        walkOn = async (step) => {
          await page.evaluate((u) => {
            const [w] = (window as unknown as { opened: Window[] }).opened;
            if (w) w.location.href = u;
          }, paid(step));
        };
        return { steps: 3 };
      },
    },
  ])(
    "a page with no rule opening a service with an auto-pay budget ($how) is asked, never paid from the service's budget",
    async ({ start }) => {
      const api: TestServer = await startL402Service({ backend: lndBackend(alice), priceMsat: 2_000 });
      const evil: TestServer = await startSink();
      closers.push(
        () => api.close(),
        () => evil.close(),
      );
      await ff.ui('saveSettings', nwcSettings([autoPay(api.url)]));
      try {
        const { steps } = await start(evil.url, (step) => `${api.url}/paid?step=${step}`);
        for (let step = 1; step <= steps; step++) {
          if (step > 1) await walkOn?.(step);
          const first = await Promise.race([ff.nextPrompt().then((p) => p.id), once(() => paidTo(api.url), null)]);
          if (first === null) throw new Error(`step ${step}: the service was paid from its own budget without asking`);
          const asked = await ff.ui('getPrompt', { id: first });
          expect(asked).toMatchObject({ origin: api.url, url: `${api.url}/paid?step=${step}` });
          // Firefox names the opener's page (originUrl) for each of these: its site asks, never the service itself.
          expect(asked?.initiator).toBe(evil.url);
          await ff.ui('answerPrompt', { id: first, answer: { choice: 'deny' } });
        }
        expect(await paidTo(api.url)).toBe(false);
        expect(api.requests.filter((r) => r.authorization !== null)).toEqual([]);
      } finally {
        await cleanUpWindows();
      }
    },
  );

  // A sandboxed frame (or a CSP-sandboxed page) has no origin: Firefox then names no one at all (no originUrl),
  // exactly as for a URL the user typed. Its top navigation or popup must still not spend the service's budget.
  it.each([
    { how: 'a sandboxed frame moving the top window', sandbox: 'allow-scripts allow-top-navigation', popup: false },
    { how: 'a sandboxed frame opening a popup', sandbox: 'allow-scripts allow-popups', popup: true },
  ])(
    "$how to a service with an auto-pay budget is asked, never paid from the service's budget",
    async ({ sandbox, popup }) => {
      const api: TestServer = await startL402Service({ backend: lndBackend(alice), priceMsat: 2_000 });
      const paid = `${api.url}/paid?sandboxed`;
      const script = popup ? `window.open('${paid}')` : `top.location.href = '${paid}'`;
      const evil = await startHtmlServer(
        `<title>host</title><iframe sandbox="${sandbox}" srcdoc="<script>${script}</script>"></iframe>`,
      );
      closers.push(
        () => api.close(),
        () => evil.close(),
      );
      // Even with auto-pay for sites without a rule: an opaque document is never paid automatically.
      const settings = nwcSettings([autoPay(api.url)]);
      await ff.ui('saveSettings', { ...settings, rules: { ...settings.rules, autoPayUnlisted: true } });
      try {
        const page = await ff.page();
        opened.push(page);
        void page.goto(evil.url).catch(() => undefined);
        const first = await Promise.race([ff.nextPrompt().then((p) => p.id), once(() => paidTo(api.url), null)]);
        if (first === null)
          throw new Error(
            `the sandboxed frame's navigation was paid from the service's budget without asking: ${JSON.stringify((await ff.ui('listPayments', { origin: api.url })).map((p) => [p.initiator, p.url, p.status]))}`,
          );
        const asked = await ff.ui('getPrompt', { id: first });
        expect(asked).toMatchObject({ origin: api.url, url: paid, initiator: 'null' });
        expect(asked?.reason).toMatch(/no origin of its own/);
        await ff.ui('answerPrompt', { id: first, answer: { choice: 'deny' } });
        expect(await paidTo(api.url)).toBe(false);
      } finally {
        await cleanUpWindows();
      }
    },
  );

  it("a cross-origin request with a hidden challenge is paid by the background; the page's later requests carry the token, the next site's do not", async () => {
    const api: TestServer = await startL402Service({ backend: lndBackend(alice), priceMsat: 2_000 });
    const site: TestServer = await startSink();
    const next: TestServer = await startSink();
    closers.push(
      () => api.close(),
      () => site.close(),
      () => next.close(),
    );
    await ff.ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await ff.page();
    await page.goto(`${site.url}/page`);
    const status = () => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
    expect(await status()).toBe(200);
    await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBe(1);
    // The payment counts against the page that made the request (Firefox: documentUrl), not the service.
    expect((await succeeded(api.url))[0]?.initiator).toBe(site.url);
    await expect.poll(status, { timeout: 30_000 }).toBe(200);
    const withAuth = () =>
      api.requests.filter((r) => r.path === '/paid' && r.authorization?.startsWith('L402 ')).length;
    expect(withAuth()).toBeGreaterThan(0);

    // The tab moves on to another site: its request to the service goes without the header (and, having no
    // rule, it is asked about; declined here). Another host, not just another port: DNR tells pages apart by host,
    // and a page on the same host only waits for the background to drop the rule (docs/security.md, known limits).
    const nextSite = next.url.replace('127.0.0.1', 'localhost');
    const before = withAuth();
    await page.goto(`${nextSite}/page`);
    const got = status();
    const prompt = await ff.nextPrompt();
    expect(await ff.ui('getPrompt', { id: prompt.id })).toMatchObject({ origin: api.url, initiator: nextSite });
    await ff.ui('answerPrompt', { id: prompt.id, answer: { choice: 'deny' } });
    expect(await got).toBe(402);
    expect(withAuth()).toBe(before);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it("a frame's 402 does not spend the frame site's budget while the user is on another site (Firefox: frameAncestors)", async () => {
    const api: TestServer = await startL402Service({ backend: lndBackend(alice), priceMsat: 2_000 });
    const top: TestServer = await startSink();
    const frames: TestServer = await startSink();
    closers.push(
      () => api.close(),
      () => top.close(),
      () => frames.close(),
    );
    const frameSite = frames.url.replace('127.0.0.1', 'localhost');
    await ff.ui('saveSettings', nwcSettings([autoPay(frameSite)]));
    const page = await ff.page();
    await page.goto(`${top.url}/page?frame=${encodeURIComponent(`${frameSite}/page`)}`);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith(frameSite))).toBe(true);
    const frame = page.frames().find((f) => f.url().startsWith(frameSite));
    if (!frame) throw new Error('no frame');
    const got = frame.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
    const prompt = await ff.nextPrompt();
    const asked = await ff.ui('getPrompt', { id: prompt.id });
    expect(asked).toMatchObject({ origin: api.url, initiator: frameSite });
    expect(asked?.reason).toContain(`inside ${top.url} (the site you are on)`);
    await ff.ui('answerPrompt', { id: prompt.id, answer: { choice: 'deny' } });
    expect(await got).toBe(402);
    expect(await succeeded(api.url)).toEqual([]);
    await page.close();
  });

  it('a token the service stops honouring is forgotten: its header stops, and no second payment is made at once (loop guard)', async () => {
    const api = await startL402Service({ backend: lndBackend(alice), priceMsat: 2_000 });
    const site = await startSink();
    closers.push(
      () => api.close(),
      () => site.close(),
    );
    await ff.ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await ff.page();
    await page.goto(`${site.url}/page`);
    const status = () => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
    expect(await status()).toBe(200);
    await expect.poll(status, { timeout: 30_000 }).toBe(200);
    const [paid] = await succeeded(api.url);
    expect((await ff.ui('listTokens', {})).map((t) => t.paymentHash)).toContain(paid?.paymentHash);

    api.rotateRootKey();
    // Firefox too shows DNR's header to onSendHeaders, so the background knows this 402 refused THAT token.
    expect(await status()).toBe(402);
    await expect
      .poll(async () => (await ff.ui('listTokens', {})).map((t) => t.paymentHash))
      .not.toContain(paid?.paymentHash);
    const sent = api.requests.length;
    expect(await status()).toBe(402);
    expect(api.requests.slice(sent).every((r) => r.authorization === null)).toBe(true);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it('window.webln: enable asks, then sendPayment pays an invoice under the site budget and returns a verified preimage', async () => {
    const s = await server();
    await ff.ui('saveSettings', nwcSettings([autoPay(s.url)], { webln: 'always' }));
    const page = await ff.page();
    await page.goto(`${s.url}/health`);
    await expect
      .poll(() => page.evaluate(() => typeof (window as unknown as { webln?: unknown }).webln))
      .toBe('object');
    type Webln = { enable(): Promise<void>; sendPayment(pr: string): Promise<{ preimage: string }> };
    const enabling = page.evaluate(() => (window as unknown as { webln: Webln }).webln.enable().then(() => 'enabled'));
    const ask = await ff.nextPrompt();
    expect((await ff.ui('getPrompt', { id: ask.id }))?.kind).toBe('webln-enable');
    await ff.ui('answerPrompt', { id: ask.id, answer: { choice: 'approve-once' } });
    expect(await enabling).toBe('enabled');

    const invoice = await lndBackend(alice).createInvoice(5_000, 'firefox webln', 600);
    const paid = await page.evaluate(
      (pr) => (window as unknown as { webln: Webln }).webln.sendPayment(pr),
      invoice.paymentRequest,
    );
    expect(createHash('sha256').update(Buffer.from(paid.preimage, 'hex')).digest('hex')).toBe(invoice.paymentHash);
    expect((await alice.lookupInvoice(invoice.paymentHash)).state).toBe('SETTLED');
    expect(
      (await ff.ui('listPayments', { origin: s.url })).find((p) => p.paymentHash === invoice.paymentHash)?.status,
    ).toBe('succeeded');
    await page.close();
  });
});
