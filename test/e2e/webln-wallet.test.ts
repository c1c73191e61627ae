// window.webln browser tests, on regtest (server node alice; the extension's NWC wallet → bob):
// - window.webln methods over NWC: lookupInvoice, keysend and signMessage for real; refused cleanly by a
//   connection limited to fewer methods;
// - wallet kind 'webln': a 402 is paid through the page's OWN pre-existing provider (another wallet extension,
//   stubbed here and paying with bob over NWC from Node) of the tab that raised it;
// - the /demo page's toolkit paying through the extension's window.webln.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NWCClient } from '@getalby/sdk/nwc';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { control, lnd, regtest } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { autoPay, nextPrompt, nwcSettings, screenshot, type Ui, uiClient } from './helpers.ts';

type Webln = {
  enable(): Promise<void>;
  getInfo(): Promise<{ methods: string[] }>;
  sendPayment(pr: string): Promise<{ preimage: string }>;
  makeInvoice(a: { amount: number; defaultMemo?: string }): Promise<{ paymentRequest: string }>;
  lookupInvoice(a: {
    paymentHash?: string;
    paymentRequest?: string;
  }): Promise<{ paymentRequest: string; paid: boolean; preimage?: string }>;
  keysend(a: {
    destination: string;
    amount: number;
    customRecords?: Record<string, string>;
  }): Promise<{ preimage: string }>;
  signMessage(m: string): Promise<unknown>;
};

describe('window.webln over NWC, wallet kind webln, the demo toolkit through our window.webln', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let server: RunningServer;
  let dataDir: string;
  const alice = lndBackend(lnd('alice'));

  /** Opens `url` and grants it window.webln through the real permission prompt. */
  const enabledPage = async (url: string): Promise<Page> => {
    const page = await ext.page();
    await page.goto(url);
    await expect.poll(() => page.evaluate(() => 'webln' in window)).toBe(true);
    const enabling = page.evaluate(() => (window as unknown as { webln: Webln }).webln.enable());
    const prompt = await nextPrompt(ext);
    expect((await ui('getPrompt', { id: prompt.id }))?.kind).toBe('webln-enable');
    await ui('answerPrompt', { id: prompt.id, answer: { choice: 'approve-once' } });
    await enabling;
    return page;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'e2e-webln-'));
    server = await startServer({ config: { port: 0, dataDir }, backend: alice });
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
  });
  afterAll(async () => {
    await ext?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lookupInvoice, keysend and signMessage work for real over NWC', async () => {
    await ui('saveSettings', nwcSettings([autoPay(server.url)], { webln: 'always' }));
    const page = await enabledPage(`${server.url}/health`);
    const methods = (await page.evaluate(() => (window as unknown as { webln: Webln }).webln.getInfo())).methods;
    expect(methods).toEqual(expect.arrayContaining(['lookupInvoice', 'keysend', 'signMessage']));

    // An invoice bob's wallet made (nobody on this network can pay bob: the channels all point away from him).
    const made = await page.evaluate(() =>
      (window as unknown as { webln: Webln }).webln.makeInvoice({ amount: 2, defaultMemo: 'e2e lookup' }),
    );
    const byRequest = await page.evaluate(
      (pr) => (window as unknown as { webln: Webln }).webln.lookupInvoice({ paymentRequest: pr }),
      made.paymentRequest,
    );
    expect(byRequest).toEqual({ paymentRequest: made.paymentRequest, paid: false });

    // A payment bob made (through window.webln): a page learns nothing about the user's outgoing payments, not
    // even that one exists; the answer is the one for a hash the wallet has never seen (docs/security.md).
    const invoice = await alice.createInvoice(3_000, 'e2e outgoing lookup', 600);
    await page.evaluate((pr) => (window as unknown as { webln: Webln }).webln.sendPayment(pr), invoice.paymentRequest);
    const lookup = (by: { paymentHash?: string; paymentRequest?: string }) =>
      page.evaluate(
        (a) =>
          (window as unknown as { webln: Webln }).webln.lookupInvoice(a).then(
            (r) => ({ answered: r }),
            (e: unknown) => ({ refused: String((e as Error).message) }),
          ),
        by,
      );
    const unknown = await lookup({ paymentHash: 'ab'.repeat(32) });
    expect(unknown).toHaveProperty('refused');
    expect(await lookup({ paymentHash: invoice.paymentHash })).toEqual(unknown);
    expect(await lookup({ paymentRequest: invoice.paymentRequest })).toEqual(unknown);

    // keysend to alice under the site's auto-pay budget: the preimage we chose settles at alice, with the record.
    const alicePubkey = (await alice.getInfo()).pubkey;
    const sent = await page.evaluate(
      (d) =>
        (window as unknown as { webln: Webln }).webln.keysend({
          destination: d,
          amount: 4,
          customRecords: { '696969': 'hi alice' },
        }),
      alicePubkey,
    );
    const hash = createHash('sha256').update(Buffer.from(sent.preimage, 'hex')).digest('hex');
    const atAlice = await lnd('alice').lookupInvoice(hash);
    expect(atAlice).toMatchObject({
      state: 'SETTLED',
      amountPaidMsat: 4_000,
      isKeysend: true,
      preimageHex: sent.preimage,
    });
    expect(Buffer.from(atAlice.customRecords['696969'] ?? '', 'hex').toString()).toBe('hi alice');
    const ledger = await ui('listPayments', { origin: server.url });
    expect(ledger.find((p) => p.paymentHash === hash)).toMatchObject({
      status: 'succeeded',
      amountMsat: 4_000,
      kind: 'webln',
    });

    // signMessage: asked every time (the message is shown); approved, bob's node key signs and alice's lnd
    // recovers bob; declined, the page gets the WebLN rejection and no signature.
    const signing = page.evaluate(() =>
      (window as unknown as { webln: Webln }).webln.signMessage('hello from the page'),
    );
    const ask = await nextPrompt(ext);
    expect(await ui('getPrompt', { id: ask.id })).toMatchObject({ origin: server.url, memo: 'hello from the page' });
    await ui('answerPrompt', { id: ask.id, answer: { choice: 'approve-once' } });
    const signed = (await signing) as { message: string; signature: string };
    expect(signed.message).toBe('hello from the page');
    expect(await lnd('alice').verifyMessage('hello from the page', signed.signature)).toEqual({
      valid: true,
      pubkey: regtest().nodes.bob.pubkey,
    });
    const declined = page.evaluate(() =>
      (window as unknown as { webln: Webln }).webln.signMessage('sign away my node').then(
        () => 'signed',
        (e: Error) => `${e.name}: ${e.message}`,
      ),
    );
    const ask2 = await nextPrompt(ext);
    await ui('answerPrompt', { id: ask2.id, answer: { choice: 'deny' } });
    expect(await declined).toBe('RejectionError: User rejected: you declined to sign the message');
    await page.close();
  });

  it('a wallet connection without pay_keysend / sign_message gives the clean "not supported" error, nothing reserved', async () => {
    // A connection the user limited (as real wallet services allow): the same bob, fewer methods.
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', {
      methods: ['get_balance', 'pay_invoice', 'make_invoice', 'lookup_invoice', 'list_transactions'],
    });
    await ui(
      'saveSettings',
      nwcSettings([autoPay(server.url)], { webln: 'always', wallet: { kind: 'nwc', uri: nwcUri } }),
    );
    // Another origin than the previous test's (whose window.webln permission is remembered): asked afresh.
    const page = await enabledPage(`${server.url.replace('127.0.0.1', 'localhost')}/health`);
    const methods = (await page.evaluate(() => (window as unknown as { webln: Webln }).webln.getInfo())).methods;
    expect(methods).toContain('lookupInvoice');
    expect(methods).not.toContain('keysend');
    expect(methods).not.toContain('signMessage');

    const alicePubkey = (await alice.getInfo()).pubkey;
    const refusal = (call: string, arg: unknown) =>
      page.evaluate(
        async ([c, a]) => {
          const w = (window as unknown as { webln: Record<string, (x: unknown) => Promise<unknown>> }).webln;
          try {
            await w[c]?.(a);
            return 'resolved';
          } catch (e) {
            return `${(e as Error).name} ${(e as { code?: string }).code}: ${(e as Error).message}`;
          }
        },
        [call, arg] as const,
      );
    const paymentsBefore = (await ui('listPayments', {})).length;
    expect(await refusal('keysend', { destination: alicePubkey, amount: 1 })).toBe(
      'UnsupportedMethodError unsupported: keysend is not supported by this wallet',
    );
    expect(await refusal('signMessage', 'hello')).toBe(
      'UnsupportedMethodError unsupported: signMessage is not supported by this wallet',
    );
    // Refused before any budget was reserved or any ledger entry written.
    expect(await ui('listPayments', {})).toHaveLength(paymentsBefore);
    await page.close();
  });

  it("wallet kind 'webln': a 402 is paid through that tab's own pre-existing provider → 200", async () => {
    await ui('saveSettings', {
      ...nwcSettings([autoPay(server.url)], { webln: 'when-absent' }),
      wallet: { kind: 'webln' },
    });
    const bob = new NWCClient({ nostrWalletConnectUrl: regtest().nwcUri });
    const paidThroughPage: string[] = [];
    try {
      // A second tab on the same site with its own provider, which must NOT be asked.
      const other = await ext.page();
      const otherCalls: string[] = [];
      await other.exposeFunction('__otherPay', async (invoice: string) => {
        otherCalls.push(invoice);
        throw new Error('wrong tab');
      });
      const page = await ext.page();
      await page.exposeFunction('__bobPay', async (invoice: string) => {
        paidThroughPage.push(invoice);
        return (await bob.payInvoice({ invoice })).preimage;
      });
      // "Another wallet extension": a provider on the page before our MAIN-world script runs.
      const stub = (fn: string) => {
        const pay = (window as unknown as Record<string, (i: string) => Promise<string>>)[fn];
        Object.defineProperty(window, 'webln', {
          configurable: true,
          value: {
            isOtherWallet: true,
            enable: async () => undefined,
            getInfo: async () => ({ node: { alias: 'other wallet', pubkey: '' }, methods: ['sendPayment'] }),
            sendPayment: async (invoice: string) => ({ preimage: await pay?.(invoice) }),
          },
        });
      };
      await page.addInitScript(stub, '__bobPay');
      await other.addInitScript(stub, '__otherPay');
      await other.goto(`${server.url}/health`);
      await page.goto(`${server.url}/health`);
      // Ours stays out of the way (when-absent): the page keeps its own provider.
      expect(
        await page.evaluate(() => (window as unknown as { webln: { isOtherWallet?: boolean } }).webln.isOtherWallet),
      ).toBe(true);
      const before = (await ui('listPayments', { origin: server.url })).length;
      const r = await page.evaluate(async (u) => {
        const res = await fetch(u, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":[1,2,3],"b":[2,4,6]}',
        });
        return { status: res.status, body: await res.text() };
      }, `${server.url}/v1/similarity`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toHaveProperty('similarity');
      expect(paidThroughPage).toHaveLength(1);
      expect(otherCalls).toEqual([]);
      const paid = await ui('listPayments', { origin: server.url });
      expect(paid).toHaveLength(before + 1);
      expect(paid.find((p) => p.invoice === paidThroughPage[0])).toMatchObject({
        status: 'succeeded',
        walletKind: 'webln',
        kind: 'l402',
      });
      expect(
        (await alice.lookupInvoice(paid.find((p) => p.invoice === paidThroughPage[0])?.paymentHash ?? '')).state,
      ).toBe('settled');
      await page.close();
      await other.close();
    } finally {
      bob.close();
    }
  });

  it("the /demo toolkit pays through the extension's window.webln (permission prompt → approve → similarity)", async () => {
    // A server of its own: a fresh origin, not yet allowed to use window.webln. No rule for it: everything is asked. The extension's own fetch wrapper meets the 402 first and
    // asks to pay it as an L402 (kind 'l402'); declining hands the 402 back to the page, whose toolkit then pays
    // through OUR window.webln: enable() → permission prompt, sendPayment → payment prompt (same rules).
    const demo = await startServer({
      config: { port: 0, dataDir: await mkdtemp(join(dataDir, 'demo-')) },
      backend: alice,
    });
    const server = demo; // shadows the shared one for this test
    await ui('saveSettings', nwcSettings([], { webln: 'always' }));
    const page = await ext.page();
    page.on('pageerror', (e) => console.error('demo page error:', e.message));
    await page.goto(`${server.url}/demo`);
    await expect
      .poll(() =>
        page.evaluate(() => (window as unknown as { webln?: { l402Autopilot?: boolean } }).webln?.l402Autopilot),
      )
      .toBe(true);
    await expect.poll(() => page.textContent('#price')).toMatch(/Price per call: \d+ sats/);
    const before = (await ui('listPayments', { origin: server.url })).length;
    let waiting = nextPrompt(ext);
    await page.click('#pay-webln');
    const kinds: string[] = [];
    for (const want of ['l402', 'webln-enable', 'webln-payment'] as const) {
      const prompt = await waiting;
      waiting = nextPrompt(ext);
      const req = await ui('getPrompt', { id: prompt.id });
      kinds.push(req?.kind ?? 'none');
      if (want === 'webln-enable') await screenshot(prompt.page, 'prompt-demo-webln-enable');
      await ui('answerPrompt', { id: prompt.id, answer: { choice: req?.kind === 'l402' ? 'deny' : 'approve-once' } });
    }
    expect(kinds).toEqual(['l402', 'webln-enable', 'webln-payment']);
    waiting.catch(() => {}); // no fourth prompt is expected
    await expect.poll(() => page.textContent('#result'), { timeout: 60_000 }).toMatch(/^similarity = /);
    expect(await page.textContent('#status')).toMatch(/^paid \d+ sats with WebLN$/);
    const paid = await ui('listPayments', { origin: server.url });
    expect(paid).toHaveLength(before + 1);
    const mine = paid.find(
      (p) => p.kind === 'webln' && p.status === 'succeeded' && p.createdAt >= Date.now() - 120_000,
    );
    expect(mine).toMatchObject({ origin: server.url, walletKind: 'nwc', amountMsat: expect.any(Number) });
    expect((await alice.lookupInvoice(mine?.paymentHash ?? '')).state).toBe('settled');
    await screenshot(page, 'demo-paid-with-extension-webln');
    await page.close();
    await demo.close();
  });
});
