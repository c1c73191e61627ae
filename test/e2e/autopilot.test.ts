// Autopilot browser tests: Debian Chromium with the built extension, our server on regtest (lnd backend =
// alice) and the extension's wallet = NWC to bob. Configuration goes through the UiApi like the real UI.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../src/extension/model/model.ts';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd, regtest } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { nextPrompt, screenshot, type Ui, uiClient } from './helpers.ts';

describe('extension pays L402 on regtest', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let server: RunningServer;
  let dataDir: string;
  let page: Page;

  const settings = (over: Partial<Settings['rules']> = {}): Settings => ({
    ...DEFAULT_SETTINGS,
    onboarded: true,
    wallet: { kind: 'nwc', uri: regtest().nwcUri },
    rules: { ...DEFAULT_SETTINGS.rules, ...over },
  });

  /** The page's own fetch, as page code would write it. */
  const pageFetch = (p: Page, url: string) =>
    p.evaluate(async (u) => {
      const r = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: [1, 2, 3], b: [2, 4, 6.5] }),
      });
      return { status: r.status, body: await r.text() };
    }, url);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'e2e-ext-'));
    server = await startServer({ config: { port: 0, dataDir }, backend: lndBackend(lnd('alice')) });
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
    page = await ext.page();
    await page.goto(`${server.url}/health`);
  });

  afterAll(async () => {
    await ext?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('1. a page fetch → prompt → Approve → the page gets 200; alice settled; the second call pays nothing', async () => {
    await ui('saveSettings', settings());
    const call = pageFetch(page, `${server.url}/v1/similarity`);
    const prompt = await nextPrompt(ext);
    await screenshot(prompt.page, 'prompt-l402');
    const req = await ui('getPrompt', { id: prompt.id });
    expect(req?.origin).toBe(server.url);
    expect(req?.amountMsat).toBe(10_000);
    expect(await ui('answerPrompt', { id: prompt.id, answer: { choice: 'approve-once' } })).toEqual({ accepted: true });
    const r = await call;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveProperty('similarity');
    const paid = await ui('listPayments', { origin: server.url });
    expect(paid).toHaveLength(1);
    expect(paid[0]?.status).toBe('succeeded');
    const inv = await server.backend.lookupInvoice(paid[0]?.paymentHash ?? '');
    expect(inv.state).toBe('settled');
    // Second call: the token is attached up front, nothing paid.
    const again = await pageFetch(page, `${server.url}/v1/similarity`);
    expect(again.status).toBe(200);
    expect(await ui('listPayments', { origin: server.url })).toHaveLength(1);
  });

  it('2. an auto-pay rule → no prompt, paid, 200', async () => {
    await ui(
      'saveSettings',
      settings({ sites: [{ pattern: server.url, budgetMsat: 1_000_000, period: 'daily', autoPay: true }] }),
    );
    for (const t of await ui('listTokens', {})) await ui('revokeToken', { paymentHash: t.paymentHash });
    let prompted = false;
    const onPage = (p: Page) => {
      if (p.url().includes('/ui/prompt/')) prompted = true;
    };
    ext.context.on('page', onPage);
    const before = (await ui('listPayments', { origin: server.url })).length;
    const r = await pageFetch(page, `${server.url}/v1/similarity`);
    ext.context.off('page', onPage);
    expect(r.status).toBe(200);
    expect(prompted).toBe(false);
    expect(await ui('listPayments', { origin: server.url })).toHaveLength(before + 1);
  });

  it('3. over the per-payment cap → denied, nothing paid, the page sees the 402 and why', async () => {
    await ui(
      'saveSettings',
      settings({
        perPaymentCapMsat: 5_000,
        sites: [{ pattern: server.url, budgetMsat: 1_000_000, period: 'daily', autoPay: true }],
      }),
    );
    for (const t of await ui('listTokens', {})) await ui('revokeToken', { paymentHash: t.paymentHash });
    const before = (await ui('listPayments', { origin: server.url })).filter((p) => p.status === 'succeeded').length;
    const pending = page.evaluate(async (u) => {
      const why = new Promise<unknown>((res) =>
        window.addEventListener('l402-autopilot:error', (e) => res((e as CustomEvent).detail), { once: true }),
      );
      const resp = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1],"b":[1]}',
      });
      return { status: resp.status, why: await why };
    }, `${server.url}/v1/similarity`);
    // Over the cap the rules either refuse outright or ask; if they ask, the user says no.
    const asked = await Promise.race([nextPrompt(ext, 5000).catch(() => null), pending.then(() => null)]);
    if (asked) {
      await screenshot(asked.page, 'prompt-over-cap');
      await ui('answerPrompt', { id: asked.id, answer: { choice: 'deny' } });
    }
    const r = await pending;
    expect(r.status).toBe(402);
    expect(r.why).toMatchObject({ url: `${server.url}/v1/similarity` });
    expect((await ui('listPayments', { origin: server.url })).filter((p) => p.status === 'succeeded')).toHaveLength(
      before,
    );
  });
});
