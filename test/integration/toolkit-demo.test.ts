// The /demo page in Debian Chromium (no extension): "Compute with WebLN" runs the bundled toolkit in the page
// against our server on regtest (lnd backend = alice), with a window.webln whose sendPayment is bridged to
// @getalby/sdk's NostrWebLNProvider in Node (NWC → bob), so a real payment happens. "plain fetch" shows the 402.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NostrWebLNProvider } from '@getalby/sdk/webln';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { lnd, regtest } from './regtest-context.ts';

describe('/demo page', () => {
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let provider: NostrWebLNProvider;
  const payments: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'toolkit-demo-'));
    server = await startServer({ config: { port: 0, dataDir }, backend: lndBackend(lnd('alice')) });
    provider = new NostrWebLNProvider({ nostrWalletConnectUrl: regtest().nwcUri });
    await provider.enable();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.exposeFunction('__nwcPay', async (invoice: string) => {
      payments.push(invoice);
      return (await provider.sendPayment(invoice)).preimage;
    });
    await page.addInitScript(() => {
      const pay = (window as unknown as { __nwcPay(i: string): Promise<string> }).__nwcPay;
      Object.defineProperty(window, 'webln', {
        value: {
          enable: async () => undefined,
          getInfo: async () => ({
            node: { alias: 'bridge', pubkey: '' },
            version: '1',
            supports: ['lightning'],
            methods: [],
          }),
          makeInvoice: async () => {
            throw new Error('not supported');
          },
          sendPayment: async (invoice: string) => ({ preimage: await pay(invoice) }),
        },
      });
    });
  });

  afterAll(async () => {
    await browser?.close();
    provider?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the price, pays with WebLN through the toolkit, then reuses the token', async () => {
    await page.goto(`${server.url}/demo`);
    await expect.poll(() => page.textContent('#price')).toMatch(/Price per call: \d+ sats/);
    await page.click('#pay-webln');
    await expect
      .poll(async () => `${await page.textContent('#result')} ${await page.textContent('#status')}`, {
        timeout: 60_000,
      })
      .toMatch(/^similarity = 0\.99/);
    expect(await page.textContent('#status')).toMatch(/^paid \d+ sats with WebLN$/);
    expect(payments).toHaveLength(1);

    await page.click('#pay-webln');
    await expect.poll(() => page.textContent('#status'), { timeout: 30_000 }).toBe('used a stored token: nothing paid');
    expect(payments).toHaveLength(1);
  });

  it('sends the same call as a binary float32 body when asked, with the same token', async () => {
    await page.check('#binary');
    await page.click('#pay-webln');
    await expect.poll(() => page.textContent('#status'), { timeout: 30_000 }).toBe('used a stored token: nothing paid');
    expect(await page.textContent('#result')).toMatch(/^similarity = 0\.99/);
    expect(payments).toHaveLength(1);
    await page.uncheck('#binary');
  });

  it('plain fetch without the extension shows the 402', async () => {
    await page.click('#pay-plain');
    await expect.poll(() => page.textContent('#result'), { timeout: 30_000 }).toBe('402 Payment Required');
    expect(await page.textContent('#log')).toContain('402 with an L402 challenge');
  });

  it('AUTH_SCHEMES=x402: the page names the offer and pays it through the toolkit, once per call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolkit-demo-x402-'));
    const x402 = await startServer({
      config: { port: 0, dataDir: dir, authSchemes: 'x402' },
      backend: lndBackend(lnd('alice')),
    });
    try {
      const before = payments.length;
      await page.goto(`${x402.url}/demo`);
      await expect
        .poll(() => page.textContent('#price'))
        .toMatch(/Price per call: \d+ sats · offered as x402 Lightning/);
      await page.click('#pay-plain');
      await expect.poll(() => page.textContent('#log'), { timeout: 30_000 }).toContain('402 with an x402 offer');
      for (const n of [1, 2]) {
        await page.click('#pay-webln');
        await expect.poll(() => payments.length - before, { timeout: 60_000 }).toBe(n);
        await expect.poll(() => page.textContent('#status'), { timeout: 30_000 }).toMatch(/^paid \d+ sats with WebLN$/);
        expect(await page.textContent('#result')).toMatch(/^similarity = 0\.99/);
      }
      expect(await page.textContent('#log')).toContain('(x402 Lightning)');
    } finally {
      await x402.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
