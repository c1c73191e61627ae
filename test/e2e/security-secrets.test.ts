// Where the wallet secret lives (docs/security.md "The NWC secret"): code running in the extension's own
// content-script context (the isolated world every web page gets, in the page's process) cannot read the NWC
// secret, in Chromium or Firefox. The probe is an extra content script added to a COPY of the built extension,
// so it runs with exactly the rights the real bridge has; it publishes what it could read on the page's DOM.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regtest } from '../integration/regtest-context.ts';
import { DIST_CHROME, launchExtension } from './fixtures/extension.ts';
import { DIST_FIREFOX, launchFirefox } from './fixtures/firefox.ts';
import { startSink, type TestServer } from './fixtures/security-servers.ts';
import { nwcSettings, uiClient } from './helpers.ts';

const PROBE = `(async () => {
  const api = globalThis.browser ?? globalThis.chrome;
  const out = {};
  for (const area of ['local', 'session', 'sync']) {
    try { out[area] = JSON.stringify(await api.storage[area].get(null)); } catch (e) { out[area] = 'refused: ' + (e && e.message); }
  }
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
})();`;

/** A copy of `dist` with the probe as one more isolated-world content script. */
function withProbe(dist: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'l402-probe-'));
  cpSync(dist, dir, { recursive: true });
  writeFileSync(join(dir, 'probe.js'), PROBE);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { content_scripts: object[] };
  manifest.content_scripts.push({
    matches: ['http://*/*'],
    js: ['probe.js'],
    run_at: 'document_idle',
    all_frames: false,
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

const secret = () => {
  const s = new URL(regtest().nwcUri).searchParams.get('secret');
  if (!s) throw new Error('the regtest NWC URI has no secret');
  return s;
};

describe('security: a content-script context cannot read the NWC secret', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  });
  const site = async (): Promise<TestServer> => {
    const s = await startSink();
    cleanup.push(() => s.close());
    return s;
  };

  it('Chromium', async () => {
    const dir = withProbe(DIST_CHROME);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ext = await launchExtension({ dist: dir });
    cleanup.push(() => ext.close());
    const { ui } = await uiClient(ext);
    await ui('saveSettings', nwcSettings([]));
    const s = await site();
    const page = await ext.page();
    await page.goto(`${s.url}/page`);
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-probe'));
    const seen = (await page.evaluate(() => document.documentElement.getAttribute('data-probe'))) ?? '';
    expect(seen).not.toContain(secret());
    expect(seen).not.toContain('nostr+walletconnect');
  });

  it('an NWC secret an earlier version left in storage.local is moved out of it at the next start (Chromium)', async () => {
    const ext = await launchExtension();
    cleanup.push(() => ext.close());
    const { page, ui } = await uiClient(ext);
    // What an earlier version wrote: the settings (with the secret) in storage.local.
    await page.evaluate((s) => chrome.storage.local.set({ settings: s }), nwcSettings([]));
    await ext.stopServiceWorker();
    await ext.readyWorker();
    expect((await ui('getSettings', {})).wallet).toEqual({ kind: 'nwc', uri: regtest().nwcUri });
    expect(await page.evaluate(() => chrome.storage.local.get(null))).toEqual({});
  });

  it('Firefox', async () => {
    const dir = withProbe(DIST_FIREFOX);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ff = await launchFirefox({ dist: dir });
    cleanup.push(() => ff.close());
    await ff.ui('saveSettings', nwcSettings([]));
    const s = await site();
    const page = await ff.page();
    await page.goto(`${s.url}/page`);
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-probe'));
    const seen = (await page.evaluate(() => document.documentElement.getAttribute('data-probe'))) ?? '';
    expect(seen).not.toContain(secret());
    expect(seen).not.toContain('nostr+walletconnect');
  });
});
