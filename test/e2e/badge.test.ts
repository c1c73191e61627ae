// The toolbar badge counts the 402s the current tab met, and starts over on a new page.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { nwcSettings, type Ui, uiClient } from './helpers.ts';

describe('toolbar badge', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let server: RunningServer;
  let dataDir: string;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'e2e-badge-'));
    server = await startServer({ config: { port: 0, dataDir }, backend: lndBackend(lnd('alice')) });
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
    page = await ext.page();
  });
  afterAll(async () => {
    await ext?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const tabIdOf = (url: string) =>
    ext.worker.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url === u)?.id ?? -1, url);
  const badgeOf = (tabId: number) => ext.worker.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);
  const titleOf = (tabId: number) => ext.worker.evaluate((id) => chrome.action.getTitle({ tabId: id }), tabId);

  it('shows how many 402s the tab met, and clears on the next page', async () => {
    // Automatic payments off: the 402s stay 402s, so the count is exactly what the page met.
    const s = nwcSettings([]);
    await ui('saveSettings', { ...s, rules: { ...s.rules, enabled: false } });
    await page.goto(`${server.url}/health`);
    const tabId = await tabIdOf(page.url());
    expect(tabId).toBeGreaterThan(0);
    expect(await badgeOf(tabId)).toBe('');

    const statuses = await page.evaluate(async (u) => {
      const call = () =>
        fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2],"b":[2,1]}' });
      return (await Promise.all([call(), call(), call()])).map((r) => r.status);
    }, `${server.url}/v1/similarity`);
    expect(statuses).toEqual([402, 402, 402]);

    await expect.poll(() => badgeOf(tabId)).toBe('3');
    // The tooltip names the scheme the 402s asked for.
    expect(await titleOf(tabId)).toBe('L402 Autopilot — 3 payment requests on this page: 3 × L402 (token)');
    expect((await ui('getSiteSummary', { origin: server.url, tabId })).challengesSeen).toBe(3);
    expect(await ui('listPayments', {})).toEqual([]);

    await page.goto(`${server.url}/v1/pricing`);
    await expect.poll(() => badgeOf(tabId)).toBe('');
    expect(await titleOf(tabId)).toBe('L402 Autopilot');
  });

  it('a 402 offering L402 and a Payment charge counts once, and the tooltip names both schemes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e2e-badge-'));
    const both = await startServer({
      config: { port: 0, dataDir: dir, authSchemes: 'l402,payment' },
      backend: lndBackend(lnd('alice')),
    });
    try {
      await page.goto(`${both.url}/health`);
      const tabId = await tabIdOf(page.url());
      const status = await page.evaluate(
        (u) =>
          fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1],"b":[1]}' }).then(
            (r) => r.status,
          ),
        `${both.url}/v1/similarity`,
      );
      expect(status).toBe(402);
      await expect.poll(() => badgeOf(tabId)).toBe('1');
      expect(await titleOf(tabId)).toBe(
        'L402 Autopilot — 1 payment request on this page: 1 × L402 (token), 1 × Payment (one-time charge)',
      );
      // The popup's pill for that tab names them too.
      const popup = await ext.openExtensionPage(
        `src/extension/ui/popup/index.html?origin=${encodeURIComponent(both.url)}&tabId=${tabId}`,
      );
      const pill = popup.getByTestId('site-challenges');
      await pill.waitFor();
      expect((await pill.textContent())?.replace(/\s+/g, ' ')).toBe('1 × 402 · L402 + Payment');
      expect(await pill.getAttribute('title')).toBe(
        'Payment requests (HTTP 402) met in this tab: 1 × L402 (token), 1 × Payment (one-time charge)',
      );
      await popup.close();
    } finally {
      await both.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
