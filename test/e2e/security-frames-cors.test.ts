// Whose budget a frame spends, and a first fetch that the background pays (docs/security.md). Real
// browser, real regtest payments (alice's invoices, NWC → bob).
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { startL402Service, startSink } from './fixtures/security-servers.ts';
import { autoPay, nextPrompt, nwcSettings } from './helpers.ts';

describe('security: frames and hidden challenges', () => {
  const suite = extensionSuite();
  const { ui } = suite;
  const service = async () =>
    suite.track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
  const sink = async () => suite.track(await startSink());
  const succeeded = async (origin: string) =>
    (await ui('listPayments', { origin })).filter((p) => p.status === 'succeeded');

  it("a frame's 402 does not spend the frame site's auto-pay budget while the user is on another site: asked, naming both", async () => {
    const api = await service();
    const top = await sink();
    // The frame's site has an auto-pay budget; the page the user is on has no rule. Another host, as frames are.
    const frameSite = (await sink()).url.replace('127.0.0.1', 'localhost');
    await ui('saveSettings', nwcSettings([autoPay(frameSite)]));
    const page = await suite.ext.page();
    await page.goto(`${top.url}/page?frame=${encodeURIComponent(`${frameSite}/page`)}`);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith(frameSite))).toBe(true);
    const frame = page.frames().find((f) => f.url().startsWith(frameSite));
    if (!frame) throw new Error('no frame');
    const prompt = nextPrompt(suite.ext).then(async (p) => ({
      id: p.id,
      request: await ui('getPrompt', { id: p.id }),
    }));
    // Cross-origin, readable (ACAO *), challenge hidden: the background's to pay, from webRequest.
    expect(await frame.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(402);
    const paidSilently = (async () => {
      await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBeGreaterThan(0);
      return 'paid silently from the frame site budget' as const;
    })();
    const asked = await Promise.race([prompt, paidSilently]);
    expect(asked).toMatchObject({ request: { origin: api.url, initiator: frameSite } });
    if (typeof asked === 'string') return;
    expect(asked.request?.reason).toContain(`inside ${top.url} (the site you are on)`);
    expect(await ui('answerPrompt', { id: asked.id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
    expect(await succeeded(api.url)).toEqual([]);
    expect((await ui('getSiteSummary', { origin: frameSite })).spentMsat).toBe(0);
    await page.close();
  });

  it('a cross-origin fetch whose challenge CORS hides resolves with the paid 200 on its first call', async () => {
    const api = await service();
    const site = await sink();
    await ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await suite.ext.page();
    await page.goto(`${site.url}/page`);
    const first = await page.evaluate(
      (u) => fetch(u).then(async (r) => ({ status: r.status, body: await r.text() })),
      `${api.url}/paid`,
    );
    expect(first).toEqual({ status: 200, body: '<title>paid</title>paid content' });
    expect(await succeeded(api.url)).toHaveLength(1);
    // One payment: the next call carries the same header.
    expect(await page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
    expect(await ui('listPayments', { origin: api.url })).toHaveLength(1);
    await page.close();
  });
});
