// Extension UI end to end: the real built extension in Debian Chromium, paying a real L402 server
// (alice's lnd) through a real NWC connection to bob's wallet on regtest. The tests run in order and share one
// browser: onboarding connects the wallet that the later payments use. Screenshots go to test-results/ui/; with
// UPDATE_SCREENSHOTS=1 they are also copied to docs/screenshots/ for the README (`npm run screenshots`).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd, regtest } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results/ui');
const DOCS = join(ROOT, 'docs/screenshots');
const UI = (name: string) => `src/extension/ui/${name}`;
const PRICE_MSAT = 21_000;

let ext: LaunchedExtension;
let server: RunningServer;
let dataDir: string;

/** "1,234,567 sats" → 1234567000 msat (the UI uses thousands separators). */
function msatFromText(text: string): number {
  const digits = text.replace(/[^\d.]/g, '');
  return Math.round(Number(digits) * 1000);
}

/** Only a deliberate refresh rewrites the committed README screenshots; test runs leave the work tree alone. */
const UPDATE_DOCS = process.env.UPDATE_SCREENSHOTS === '1';

/** Screenshot in light and dark; files land in test-results/ui (and docs/screenshots when refreshing). */
async function shoot(page: Page, name: string, prepare?: () => Promise<void>): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  if (UPDATE_DOCS) mkdirSync(DOCS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await prepare?.();
    // Buttons animate their background: let the theme switch finish before capturing.
    await page.waitForTimeout(400);
    const file = `${name}-${colorScheme}.png`;
    await page.screenshot({ path: join(SHOTS, file), fullPage: true });
    if (UPDATE_DOCS) copyFileSync(join(SHOTS, file), join(DOCS, file));
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A paid call from a page: the extension's MAIN-world wrapper answers the 402 and retries. */
function callSimilarity(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const res = await fetch('/v1/similarity', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: [1, 2, 3], b: [3, 2, 1] }),
    });
    return res.status;
  });
}

/** Paid payments to `host` as the ledger page lists them. */
async function paidCount(host: string): Promise<number> {
  const page = await ext.openExtensionPage(UI('options/index.html#ledger'));
  // Earlier tests paid already, so the table (not the empty state) appears once the list has loaded.
  await page.getByTestId('ledger-table').waitFor();
  const rows = await page.locator('[data-testid=ledger-table] tbody tr').allTextContents();
  await page.close();
  return rows.filter((r) => r.includes(host) && r.includes('Paid')).length;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'l402-ui-e2e-'));
  server = await startServer({
    config: { port: 0, dataDir, pairPriceMsat: PRICE_MSAT },
    backend: lndBackend(lnd('alice')),
  });
  ext = await launchExtension();
}, 60_000);

afterAll(async () => {
  await ext?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('extension UI on regtest', () => {
  test('onboarding with the regtest NWC URI shows the real balance and saves the wallet', async () => {
    const page = await ext.openExtensionPage(UI('onboarding/index.html'));
    await page.setViewportSize({ width: 900, height: 900 });

    // A typo is refused before anything connects.
    const box = page.getByRole('textbox', { name: 'Connection string' });
    await box.fill('nostr+walletconnect://not-a-key');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.locator('.field-error').textContent()).toContain('64 hex');

    const before = (await lnd('bob').channelBalance()).localMsat;
    await box.fill(regtest().nwcUri);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const balance = page.getByTestId('wallet-balance');
    await balance.waitFor({ timeout: 30_000 });
    const after = (await lnd('bob').channelBalance()).localMsat;
    const shown = msatFromText((await balance.textContent()) ?? '');
    // Other tests may pay from bob meanwhile: the shown balance lies between the two readings.
    expect(shown).toBeLessThanOrEqual(Math.ceil(before / 1000) * 1000);
    expect(shown).toBeGreaterThanOrEqual(Math.floor(after / 1000) * 1000);
    expect(await page.getByTestId('wallet-status').textContent()).toContain('pay_invoice');
    await shoot(page, 'onboarding');

    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('radio', { name: /Auto-pay small amounts/ }).check();
    await page.getByLabel('Per payment, at most').fill('100');
    await page.getByLabel('Per day, at most').fill('5,000');
    await page.getByRole('button', { name: 'Finish setup' }).click();
    await page.getByRole('heading', { name: "You're all set" }).waitFor();
    expect(await page.getByTestId('done-unlisted').textContent()).toBe('paid silently within these limits');
    await page.close();

    // The popup now reads the same wallet through the background.
    const popup = await ext.openExtensionPage(UI('popup/index.html'));
    await popup.getByTestId('wallet-balance').waitFor({ timeout: 30_000 });
    expect(await popup.getByTestId('wallet-status').textContent()).toContain('Connected');
    await popup.close();
  }, 120_000);

  test('after the auto-pay preset, a site without a rule is paid within the caps with no prompt', async () => {
    const host = new URL(server.url).host;
    const prompts: string[] = [];
    const onPage = (p: Page) => {
      if (p.url().includes('/ui/prompt/')) prompts.push(p.url());
    };
    ext.context.on('page', onPage);
    try {
      const site = await ext.page();
      const statuses: number[] = [];
      site.on('response', (r) => {
        if (r.url().endsWith('/v1/similarity')) statuses.push(r.status());
      });
      await site.goto(`${server.url}/health`);
      expect(await callSimilarity(site)).toBe(200);
      expect(statuses[0]).toBe(402); // a real challenge was met and paid, not a token from before
      // The first payment of this run (the ledger was empty): exactly one, paid.
      expect(await paidCount(host)).toBe(1);
      await site.close();
    } finally {
      ext.context.off('page', onPage);
    }
    expect(prompts).toEqual([]);

    // The popup says why: no rule of its own, auto-paid within the caps.
    const popup = await ext.openExtensionPage(`${UI('popup/index.html')}?origin=${encodeURIComponent(server.url)}`);
    await popup.getByTestId('site-no-rule').waitFor();
    expect(await popup.getByTestId('site-no-rule').textContent()).toContain(
      'paid without asking within your per-payment and daily caps',
    );
    expect(await popup.getByRole('switch', { name: 'Auto-pay on this site' }).getAttribute('aria-checked')).toBe(
      'true',
    );
    await popup.close();
  }, 120_000);

  test('editing rules round-trips, and invalid values are refused with a message', async () => {
    const page = await ext.openExtensionPage(UI('options/index.html#rules'));
    await page.getByLabel('Per-payment cap').waitFor();
    expect(await page.getByLabel('Per-payment cap').inputValue()).toBe('100');
    expect(await page.getByLabel('Daily cap').inputValue()).toBe('5000');

    await page.getByLabel('Per-payment cap').fill('250');
    await page.getByRole('button', { name: '+ Add site' }).click();
    await page.getByLabel('Site pattern (new site)').fill(server.url);
    await page.getByLabel(`Budget for ${server.url}`).fill('2000');
    await page.getByLabel('Block a site').fill('*.casino.example');
    await page.getByRole('button', { name: 'Block', exact: true }).click();
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Rules saved.').waitFor();

    await page.reload();
    await page.getByLabel('Per-payment cap').waitFor();
    expect(await page.getByLabel('Per-payment cap').inputValue()).toBe('250');
    expect(await page.getByLabel(`Budget for ${server.url}`).inputValue()).toBe('2000');
    expect(await page.getByRole('switch', { name: `Auto-pay on ${server.url}` }).getAttribute('aria-checked')).toBe(
      'true',
    );
    expect(await page.getByRole('list', { name: 'Blocked sites' }).textContent()).toContain('*.casino.example');

    // Auto-pay for sites without a rule (on from the onboarding preset) needs both caps: refused without one.
    const unlisted = page.getByRole('switch', { name: 'Auto-pay sites without a rule (within the caps above)' });
    expect(await unlisted.getAttribute('aria-checked')).toBe('true');
    await page.getByLabel('Daily cap').fill('');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await expect
      .poll(() => page.locator('.field-error').allTextContents())
      .toContain('Auto-paying sites without a rule needs a daily cap: enter one, or switch that off below.');
    // Switched off, sites without a rule ask again (the prompt test below relies on it).
    await page.getByLabel('Daily cap').fill('5000');
    await unlisted.click();
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Rules saved.').waitFor();
    await page.reload();
    await page.getByLabel('Per-payment cap').waitFor();
    expect(await unlisted.getAttribute('aria-checked')).toBe('false');

    // Invalid values: a negative cap and a pattern that is not a site. Both are explained, nothing is saved.
    await page.getByLabel('Per-payment cap').fill('-5');
    await page.getByLabel('Block a site').fill('ftp://nope');
    await page.getByRole('button', { name: 'Block', exact: true }).click();
    await expect
      .poll(() => page.locator('.field-error').allTextContents())
      .toContain('Use an origin like https://api.example.com or a domain like *.example.com.');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await expect
      .poll(() => page.locator('.field-error').allTextContents())
      .toContain('Use a whole number of sats, 0 or more (no decimals).');
    expect(await page.getByRole('alert').first().textContent()).toContain('need fixing');
    await page.reload();
    await page.getByLabel('Per-payment cap').waitFor();
    expect(await page.getByLabel('Per-payment cap').inputValue()).toBe('250');
    // Tall enough that the sticky save bar sits below the form in the full-page capture.
    await page.setViewportSize({ width: 1200, height: 1100 });
    await shoot(page, 'options-rules');
    await page.close();
  }, 60_000);

  test('a paid request shows in the popup and the ledger with the right amount and fee, and in the CSV', async () => {
    const site = await ext.page();
    await site.goto(`${server.url}/health`);
    expect(await callSimilarity(site)).toBe(200);

    // The Lightning payment as bob's node saw it: amount and routing fee.
    const paid = (await lnd('bob').listPayments(200)).filter(
      (p) => p.status === 'SUCCEEDED' && p.valueMsat === PRICE_MSAT,
    );
    expect(paid.length).toBeGreaterThan(0);

    const popup = await ext.openExtensionPage(`${UI('popup/index.html')}?origin=${encodeURIComponent(server.url)}`);
    await popup.setViewportSize({ width: 360, height: 640 });
    const recent = popup.getByTestId('recent-payments');
    await recent.waitFor();
    const first = recent.locator('li').first();
    expect(await first.textContent()).toContain(new URL(server.url).host);
    expect(await first.textContent()).toContain('21 sats');
    expect(await first.textContent()).toContain('Paid');
    await shoot(popup, 'popup');
    await popup.close();

    const ledger = await ext.openExtensionPage(UI('options/index.html#ledger'));
    await ledger.setViewportSize({ width: 1200, height: 900 });
    const row = ledger.getByTestId('ledger-table').locator('tbody tr').first();
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells[2]).toBe('21');
    await row.click();
    const hash = (await ledger.locator('.proof dd.mono').nth(1).textContent()) ?? '';
    const lndPayment = paid.find((p) => p.paymentHash === hash);
    expect(lndPayment).toBeDefined();
    expect(msatFromText(cells[3] ?? '')).toBe(lndPayment?.feeMsat);
    const preimage = (await ledger.getByTestId('preimage').textContent()) ?? '';
    expect(preimage).toMatch(/^[0-9a-f]{64}$/);
    await shoot(ledger, 'options-ledger');

    const [download] = await Promise.all([
      ledger.waitForEvent('download'),
      ledger.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8');
    expect(csv.split('\r\n')[0]).toContain('amountSats');
    const line = csv.split('\r\n').find((l) => l.includes(hash));
    expect(line).toBeDefined();
    expect(line).toContain(',21,');
    expect(line).toContain(preimage);
    await ledger.close();
    await site.close();
  }, 120_000);

  test('revoking a token makes the next request 402 again', async () => {
    const host = new URL(server.url).host;
    const site = await ext.page();
    const statuses: number[] = [];
    site.on('response', (r) => {
      if (r.url().endsWith('/v1/similarity')) statuses.push(r.status());
    });
    await site.goto(`${server.url}/health`);
    const paidBefore = await paidCount(host);
    expect(await callSimilarity(site)).toBe(200);
    expect(await paidCount(host)).toBe(paidBefore); // the token bought earlier is reused: no new payment

    const tokens = await ext.openExtensionPage(UI('options/index.html#tokens'));
    await tokens.setViewportSize({ width: 1200, height: 700 });
    await tokens.getByTestId('tokens-table').waitFor();
    await shoot(tokens, 'options-tokens');
    const revokes = tokens.getByRole('button', { name: `Revoke token for ${host}`, exact: false });
    const count = await revokes.count();
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) await revokes.first().click();
    await expect.poll(() => revokes.count()).toBe(0);
    await tokens.close();

    statuses.length = 0;
    expect(await callSimilarity(site)).toBe(200); // paid again, within the site budget
    expect(statuses[0]).toBe(402);
    expect(await paidCount(host)).toBe(paidBefore + 1);
    await site.close();
  }, 120_000);

  test('the prompt window asks for a site without a rule; Esc denies and it closes itself', async () => {
    // Same server, another origin (localhost instead of 127.0.0.1): no rule there yet.
    const other = server.url.replace('127.0.0.1', 'localhost');
    const site = await ext.page();
    await site.goto(`${other}/health`);
    const promptOpened = ext.context.waitForEvent('page', {
      predicate: (p) => p.url().includes('/ui/prompt/'),
      timeout: 30_000,
    });
    const status = callSimilarity(site);
    const prompt = await promptOpened;
    await prompt.getByTestId('prompt-amount').waitFor();
    expect(await prompt.getByTestId('prompt-amount').textContent()).toContain('21');
    expect(await prompt.locator('body').textContent()).toContain('localhost');
    await prompt.setViewportSize({ width: 420, height: 640 });
    // Approve arms itself after a short anti-click-jacking delay; capture it armed.
    await expect.poll(() => prompt.getByRole('button', { name: /Approve once/ }).isEnabled()).toBe(true);
    await shoot(prompt, 'prompt');
    const closed = prompt.waitForEvent('close');
    // keydown alone: the prompt answers on keydown and closes, so a full press's keyup can race a closed page.
    await prompt.keyboard.down('Escape');
    await closed;
    expect(await status).toBe(402);
    await site.close();

    // Options wallet page, for the README, once the wallet has been used.
    const wallet = await ext.openExtensionPage(UI('options/index.html#wallet'));
    await wallet.setViewportSize({ width: 1200, height: 900 });
    await wallet.getByTestId('wallet-balance').waitFor({ timeout: 30_000 });
    await shoot(wallet, 'options-wallet');
    await wallet.close();
  }, 120_000);
});
