// Helpers shared by the browser tests: drive the extension through its UiApi from one of its own pages
// (the way the popup/options do), and catch prompt windows.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { ArgOf, ResultOf, UiApi } from '../../src/extension/messaging/protocol.ts';
import { DEFAULT_SETTINGS, type Settings, type SiteRule } from '../../src/extension/model/model.ts';
import { regtest } from '../integration/regtest-context.ts';
import type { LaunchedExtension } from './fixtures/extension.ts';

export type Ui = <K extends keyof UiApi>(method: K, arg: ArgOf<UiApi, K>) => Promise<ResultOf<UiApi, K>>;

/** Onboarded settings paying with the regtest NWC wallet (→ bob): caps 1,000 sat a payment and 10,000 sat a day, these sites. */
export function nwcSettings(sites: SiteRule[], over: Partial<Settings> = {}): Settings {
  return {
    ...DEFAULT_SETTINGS,
    onboarded: true,
    wallet: { kind: 'nwc', uri: regtest().nwcUri },
    rules: { ...DEFAULT_SETTINGS.rules, perPaymentCapMsat: 1_000_000, dailyCapMsat: 10_000_000, sites },
    ...over,
  };
}

/** A site rule that auto-pays `pattern` within a daily budget (default 1,000 sat). */
export function autoPay(pattern: string, budgetMsat = 1_000_000): SiteRule {
  return { pattern, budgetMsat, period: 'daily', autoPay: true };
}

/**
 * A typed UiApi client over `send`, which delivers one message from an extension page (so `sender` is the
 * extension, as for the real UI) and returns the reply.
 */
export function uiVia(send: (msg: { boundary: 'ui'; method: string; arg: unknown }) => Promise<unknown>): Ui {
  return async (method, arg) => {
    const r = (await send({ boundary: 'ui', method, arg })) as
      | { ok: true; value: unknown }
      | { ok: false; error: { code: string; message: string } }
      | undefined;
    if (!r) throw new Error(`ui.${method}: no answer`);
    if (!r.ok)
      throw Object.assign(new Error(`ui.${method}: ${r.error.code}: ${r.error.message}`), { code: r.error.code });
    return r.value as ResultOf<UiApi, typeof method>;
  };
}

/** A UiApi client running in the extension's options page (Chromium). */
export async function uiClient(ext: LaunchedExtension): Promise<{ ui: Ui; page: Page }> {
  const page = await ext.openExtensionPage('src/extension/ui/options/index.html');
  return { ui: uiVia((msg) => page.evaluate((m) => chrome.runtime.sendMessage(m), msg)), page };
}

/** Waits for the next prompt window and returns it with its prompt id. */
export async function nextPrompt(ext: LaunchedExtension, timeout = 30_000): Promise<{ page: Page; id: string }> {
  const page = await ext.context.waitForEvent('page', { predicate: (p) => p.url().includes('/ui/prompt/'), timeout });
  const id = new URL(page.url()).searchParams.get('id');
  if (!id) throw new Error(`prompt window without id: ${page.url()}`);
  return { page, id };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results', { recursive: true });
  await page.waitForLoadState('load').catch(() => {});
  await page.screenshot({ path: `test-results/${name}.png` }).catch(() => {});
}
