// Names of sites (docs/security.md "Which site is asking" and "Frames from subdomains"): the prompt names the
// registrable domain plainly and the full host uncut; a header rule granted to a page does not reach a frame
// from a subdomain of that page's host. Hosts under example.co.uk (a public suffix two labels deep) resolve
// to 127.0.0.1 in this browser only. Real regtest payments (alice's invoices, NWC → bob).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { type LaunchedFirefox, launchFirefox } from './fixtures/firefox.ts';
import { startL402Service, startSink, type TestServer } from './fixtures/security-servers.ts';
import { autoPay, nextPrompt, nwcSettings, screenshot } from './helpers.ts';

const LONG = 'a-rather-long-subdomain-label-that-a-look-alike-might-use.checkout.shop';
const at = (s: TestServer, host: string) => s.url.replace('127.0.0.1', host);

describe('security: which site, shown and matched', () => {
  const suite = extensionSuite({ args: ['--host-resolver-rules=MAP *.example.co.uk 127.0.0.1'] });
  const { ui } = suite;
  const service = async () =>
    suite.track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
  const sink = async () => suite.track(await startSink());

  it('the prompt shows the registrable domain plainly and the full host wrapped, never cut', async () => {
    const api = await service();
    const origin = at(api, `${LONG}.example.co.uk`);
    await ui('saveSettings', nwcSettings([]));
    const page = await suite.ext.page();
    await page.goto(`${origin}/page`);
    const asked = nextPrompt(suite.ext);
    const call = page.evaluate(() => fetch('/paid').then((r) => r.status));
    const prompt = (await asked).page;
    const domain = prompt.getByTestId('prompt-domain');
    await domain.waitFor();
    expect(await domain.textContent()).toBe('example.co.uk');
    const host = prompt.getByTestId('prompt-host');
    expect(await host.textContent()).toBe(new URL(origin).host);
    // Shown in full: nothing clipped, no ellipsis, wrapped onto more than one line in the 420-px window.
    const box = await host.evaluate((el) => {
      const st = getComputedStyle(el);
      return {
        ellipsis: st.textOverflow,
        clipped: el.scrollWidth > el.clientWidth,
        lines: Math.round(el.clientHeight / Number.parseFloat(st.lineHeight || '16')),
      };
    });
    expect(box.ellipsis).not.toBe('ellipsis');
    expect(box.clipped).toBe(false);
    expect(box.lines).toBeGreaterThan(1);
    await screenshot(prompt, 'prompt-long-host');
    await prompt.keyboard.down('Escape');
    expect(await call).toBe(402);
    await page.close();
  });

  it("a frame from a subdomain of the paying page's host does not get the page's header", async () => {
    const api = await service();
    const site = await sink();
    const frames = await sink();
    const siteUrl = at(site, 'shop.example.co.uk');
    const staticFrame = `${at(frames, 'uploads.shop.example.co.uk')}/page`;
    const laterFrame = `${at(frames, 'cdn.shop.example.co.uk')}/page`;
    // Whatever the rules make of the frames' own 402s, they are denied here: only the header matters.
    const deny = (p: Page) => {
      const id = p.url().includes('/ui/prompt/') ? new URL(p.url()).searchParams.get('id') : null;
      if (id) void ui('answerPrompt', { id, answer: { choice: 'deny' } }).catch(() => {});
    };
    suite.ext.context.on('page', deny);
    try {
      await ui('saveSettings', nwcSettings([autoPay(siteUrl)]));
      const page = await suite.ext.page();
      await page.goto(`${siteUrl}/page?frame=${encodeURIComponent(staticFrame)}`);
      const fetchFrom = (who: string) => `${api.url}/paid?from=${who}`;
      expect(await page.evaluate((u) => fetch(u).then((r) => r.status), fetchFrom('page'))).toBe(200);
      await expect
        .poll(
          async () => (await ui('listPayments', { origin: api.url })).filter((p) => p.status === 'succeeded').length,
          { timeout: 30_000 },
        )
        .toBe(1);
      await expect
        .poll(() => page.evaluate((u) => fetch(u).then((r) => r.status), fetchFrom('page')), { timeout: 30_000 })
        .toBe(200);
      const granted = api.requests.find((r) => r.path.includes('from=page') && r.authorization !== null)?.authorization;
      expect(granted).toBeTruthy();

      // A frame added after the purchase, and the one there from the start.
      await page.evaluate((src) => {
        const f = document.createElement('iframe');
        f.src = src;
        document.body.append(f);
        return new Promise((r) => f.addEventListener('load', r));
      }, laterFrame);
      for (const [name, url] of [
        ['uploads', staticFrame],
        ['cdn', laterFrame],
      ] as const) {
        const frame = page.frames().find((f) => f.url() === url);
        if (!frame) throw new Error(`no ${name} frame`);
        await frame.evaluate(
          (u) =>
            fetch(u)
              .then((r) => r.status)
              .catch(() => 0),
          fetchFrom(name),
        );
        const sent = api.requests.filter((r) => r.path.includes(`from=${name}`));
        expect(sent.length).toBeGreaterThan(0);
        expect(sent.map((r) => r.authorization === granted)).not.toContain(true);
      }
      await page.close();
    } finally {
      suite.ext.context.off('page', deny);
    }
  });
});

describe('security: subdomain frames in Firefox', () => {
  let ff: LaunchedFirefox;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    // Every name resolves to 127.0.0.1 in this Firefox (the servers all listen there).
    ff = await launchFirefox({ prefs: { 'network.dns.forceResolve': '127.0.0.1' } });
  });
  afterAll(async () => {
    await ff?.close();
    for (const c of closers) await c().catch(() => {});
  });

  it("a frame from a subdomain of the paying page's host does not get the page's header", async () => {
    const api = await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 });
    const site = await startSink();
    const frames = await startSink();
    closers.push(
      () => api.close(),
      () => site.close(),
      () => frames.close(),
    );
    const siteUrl = at(site, 'shop.example.co.uk');
    const frameUrl = `${at(frames, 'uploads.shop.example.co.uk')}/page`;
    await ff.ui('saveSettings', nwcSettings([autoPay(siteUrl)]));
    const page = await ff.page();
    await page.goto(`${siteUrl}/page?frame=${encodeURIComponent(frameUrl)}`);
    const fetchFrom = (who: string) => `${api.url}/paid?from=${who}`;
    const status = () => page.evaluate((u) => fetch(u).then((r) => r.status), fetchFrom('page'));
    expect(await status()).toBe(200);
    await expect
      .poll(
        async () => (await ff.ui('listPayments', { origin: api.url })).filter((p) => p.status === 'succeeded').length,
        { timeout: 30_000 },
      )
      .toBe(1);
    await expect.poll(status, { timeout: 30_000 }).toBe(200);
    const granted = api.requests.find((r) => r.path.includes('from=page') && r.authorization !== null)?.authorization;
    expect(granted).toBeTruthy();
    const frame = page.frames().find((f) => f.url() === frameUrl);
    if (!frame) throw new Error('no uploads frame');
    // The frame's own 402 may open a prompt; it is left to time out: only the header matters here.
    void frame
      .evaluate(
        (u) =>
          fetch(u)
            .then((r) => r.status)
            .catch(() => 0),
        fetchFrom('uploads'),
      )
      .catch(() => {});
    await expect.poll(() => api.requests.filter((r) => r.path.includes('from=uploads')).length).toBeGreaterThan(0);
    expect(
      api.requests.filter((r) => r.path.includes('from=uploads')).map((r) => r.authorization === granted),
    ).not.toContain(true);
    await page.close();
  });
});
