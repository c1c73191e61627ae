// Payment security in a real browser (docs/security.md): a hostile server or page cannot make the
// extension pay, or hand over a paid token or preimage, beyond the user's rules. Real regtest payments
// (alice's invoices, the extension's NWC wallet → bob).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { startReplayServer, startScopeServer } from './fixtures/hostile-payments.ts';
import { startL402Service, startSink } from './fixtures/security-servers.ts';
import { autoPay, nextPrompt, nwcSettings } from './helpers.ts';

type Webln = { enable(): Promise<void>; sendPayment(pr: string): Promise<{ preimage: string }> };
type Outcome = { ok: true; preimage: string } | { ok: false; code: string; name: string };

describe('security: payments', () => {
  const suite = extensionSuite();
  const { ui, closers } = suite;
  const track = <T extends { close(): Promise<void> }>(s: T): T => {
    closers.push(() => s.close());
    return s;
  };

  /** The page fetches `path` on its own origin; resolves with the status and the extension's error event, if any. */
  const fetchWithWhy = (page: Page, path: string) =>
    page.evaluate(async (p) => {
      let why: { code: string } | null = null;
      window.addEventListener('l402-autopilot:error', (e) => {
        why = (e as CustomEvent<{ code: string }>).detail;
      });
      const status = (await fetch(p)).status;
      // The error event follows the background's answer; give it the same turn the wrapper takes.
      for (let i = 0; i < 100 && why === null; i++) await new Promise((r) => setTimeout(r, 50));
      return { status, code: (why as { code: string } | null)?.code ?? null };
    }, path);

  /** Buys one token for the service's own page; returns the succeeded record. */
  const buyToken = async () => {
    const api = track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
    await ui('saveSettings', nwcSettings([autoPay(api.url)], { webln: 'always' }));
    const page = await suite.ext.page();
    await page.goto(`${api.url}/page`);
    expect(await page.evaluate(() => fetch('/paid').then((r) => r.status))).toBe(200);
    const [paid] = (await ui('listPayments', { origin: api.url })).filter((p) => p.status === 'succeeded');
    if (!paid?.preimage) throw new Error('the first payment did not succeed');
    await page.close();
    return { api, paid: { ...paid, preimage: paid.preimage } };
  };

  it('a foreign server offering an already-paid hash gets no token and no preimage, and the answer is that of an unpayable hash', async () => {
    const { api, paid } = await buyToken();
    const evil = track(await startReplayServer({ knownHash: paid.paymentHash }));
    await ui('saveSettings', nwcSettings([autoPay(api.url), autoPay(evil.url)], { webln: 'always' }));
    const page = await suite.ext.page();
    await page.goto(`${evil.url}/page`);
    const known = await fetchWithWhy(page, '/known');
    const fresh = await fetchWithWhy(page, '/fresh');
    const leaked = evil.requests.filter((r) => r.authorization !== null);
    expect(leaked.map((r) => r.authorization)).toEqual([]);
    expect(known.status).toBe(402);
    // No ledger oracle: the same answer as for a hash the wallet cannot pay.
    expect(known.code).not.toBeNull();
    expect(known.code).toBe(fresh.code);
    // Nothing paid or granted: the original record is untouched and the token is still only the service's.
    const records = await ui('listPayments', {});
    expect(records.filter((r) => r.paymentHash === paid.paymentHash)).toEqual([paid]);
    expect(records.filter((r) => r.origin === evil.url && r.status === 'succeeded')).toEqual([]);
    const token = (await ui('listTokens', {})).find((t) => t.paymentHash === paid.paymentHash);
    expect(token?.grantedTo).toEqual([api.url]);
    await page.close();
  });

  it("webln.sendPayment of an invoice carrying another site's paid hash does not return its preimage", async () => {
    const { api, paid } = await buyToken();
    const evil = track(await startReplayServer({ knownHash: paid.paymentHash }));
    await ui('saveSettings', nwcSettings([autoPay(api.url), autoPay(evil.url)], { webln: 'always' }));
    const page = await suite.ext.page();
    await page.goto(`${evil.url}/page`);
    await expect.poll(() => page.evaluate(() => 'webln' in window)).toBe(true);
    const enabling = page.evaluate(() => (window as unknown as { webln: Webln }).webln.enable());
    const prompt = await nextPrompt(suite.ext);
    await ui('answerPrompt', { id: prompt.id, answer: { choice: 'approve-once' } });
    await enabling;
    // Fetching the challenges only to learn the invoices (the replay server signs one per call).
    await fetchWithWhy(page, '/known');
    await fetchWithWhy(page, '/fresh');
    const send = (pr: string) =>
      page.evaluate(
        (p) =>
          (window as unknown as { webln: Webln }).webln.sendPayment(p).then(
            (r): Outcome => ({ ok: true, preimage: r.preimage }),
            (e: Error & { code: string }): Outcome => ({ ok: false, code: e.code, name: e.name }),
          ),
        pr,
      );
    const knownInvoice = evil.invoices.get('/known');
    const freshInvoice = evil.invoices.get('/fresh');
    if (!knownInvoice || !freshInvoice) throw new Error('the replay server handed out no invoices');
    const known = await send(knownInvoice);
    const fresh = await send(freshInvoice);
    expect(known).not.toEqual({ ok: true, preimage: paid.preimage });
    expect(fresh.ok).toBe(false);
    expect(known).toEqual(fresh);
    expect((await ui('listPayments', {})).filter((r) => r.paymentHash === paid.paymentHash)).toEqual([paid]);
    await page.close();
  });

  it('a token that could not authorize the request (already expired, or scoped elsewhere) is never bought, however often the page polls', async () => {
    const s = track(await startScopeServer({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 }));
    await ui('saveSettings', nwcSettings([autoPay(s.url, 5_000_000)]));
    const page = await suite.ext.page();
    await page.goto(`${s.url}/page`);
    const answers: { status: number; code: string | null }[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await fetchWithWhy(page, '/expired'));
      answers.push(await fetchWithWhy(page, '/scoped'));
    }
    expect(await ui('listPayments', { origin: s.url })).toEqual([]);
    expect(answers.every((a) => a.status === 402 && a.code === 'unusable_token')).toBe(true);
    await page.close();
  });

  it('circuit breaker: the 4th payment to one service within minutes asks the user, whatever the budget, and the prompt says why', async () => {
    const s = track(await startScopeServer({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 }));
    await ui('saveSettings', nwcSettings([autoPay(s.url, 5_000_000)]));
    const page = await suite.ext.page();
    await page.goto(`${s.url}/page`);
    for (const i of [1, 2, 3])
      expect(await page.evaluate((p) => fetch(p).then((r) => r.status), `/item/${i}`)).toBe(200);
    const fourth = page.evaluate(() => fetch('/item/4').then((r) => r.status));
    const first = await Promise.race([
      nextPrompt(suite.ext).then((p) => ({ prompt: p.id })),
      fourth.then((status) => ({ status })),
    ]);
    if (!('prompt' in first)) throw new Error(`the 4th payment was made without asking (status ${first.status})`);
    expect((await ui('getPrompt', { id: first.prompt }))?.reason).toMatch(/3 payments to .* in the last 5 min/);
    await ui('answerPrompt', { id: first.prompt, answer: { choice: 'deny' } });
    expect(await fourth).toBe(402);
    expect((await ui('listPayments', { origin: s.url })).filter((p) => p.status === 'succeeded')).toHaveLength(3);
    await page.close();
  });

  /** Resolves with `what` once `check` holds (polled), to race a prompt against a silent payment. */
  const once = async <T>(check: () => Promise<boolean>, what: T): Promise<T> => {
    for (;;) {
      if (await check().catch(() => false)) return what;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const paidTo = async (origin: string) =>
    (await ui('listPayments', { origin })).filter((p) => p.status !== 'failed').length > 0;

  it("a navigation another site starts (window.open) is that site's to pay: asked, not paid from the service's budget", async () => {
    const api = track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
    const evil = track(await startSink());
    await ui('saveSettings', nwcSettings([autoPay(api.url)]));
    const page = await suite.ext.page();
    await page.goto(`${evil.url}/page`);
    await page.evaluate((u) => void window.open(u, '_blank'), `${api.url}/paid`);
    const first = await Promise.race([nextPrompt(suite.ext).then((p) => p.id), once(() => paidTo(api.url), null)]);
    if (first === null) throw new Error('the opened service was paid from its own budget without asking');
    expect(await ui('getPrompt', { id: first })).toMatchObject({ origin: api.url, initiator: evil.url });
    await ui('answerPrompt', { id: first, answer: { choice: 'deny' } });
    expect(await paidTo(api.url)).toBe(false);
    for (const p of suite.ext.context.pages()) if (p.url().startsWith(api.url)) await p.close();
    await page.close();
  });

  it('a navigation from an opaque origin (a data: document) is never paid automatically, and the prompt says what it is', async () => {
    const api = track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
    const settings = nwcSettings([autoPay(api.url)]);
    await ui('saveSettings', { ...settings, rules: { ...settings.rules, autoPayUnlisted: true } });
    const page = await suite.ext.page();
    await page.goto('data:text/html,<title>opaque</title>');
    void page.evaluate((u) => {
      location.href = u;
    }, `${api.url}/paid`);
    const first = await Promise.race([nextPrompt(suite.ext).then((p) => p.id), once(() => paidTo(api.url), null)]);
    if (first === null) throw new Error('the opaque navigation was paid without asking');
    expect((await ui('getPrompt', { id: first }))?.reason).toMatch(/no origin of its own/);
    await ui('answerPrompt', { id: first, answer: { choice: 'deny' } });
    expect(await paidTo(api.url)).toBe(false);
    await page.close();
  });

  it('a cross-origin fetch whose response the page can never read (no CORS) is not paid', async () => {
    const api = track(await startScopeServer({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 }));
    const site = track(await startSink());
    await ui('saveSettings', nwcSettings([autoPay(site.url), autoPay(api.url)]));
    const warned: string[] = [];
    const listen = (m: { text(): string }) => void warned.push(m.text());
    suite.ext.worker.on('console', listen);
    const page = await suite.ext.page();
    await page.goto(`${site.url}/page`);
    const got = await page.evaluate(
      (u) =>
        fetch(u).then(
          (r) => `status ${r.status}`,
          (e: Error) => e.message,
        ),
      `${api.url}/item/1`,
    );
    expect(got).not.toMatch(/^status/);
    const outcome = await Promise.race([
      once(async () => warned.some((w) => w.includes(`${api.url}/item/1`) && w.includes('could not read')), 'refused'),
      once(() => paidTo(api.url), 'paid'),
    ]);
    suite.ext.worker.off('console', listen);
    expect(outcome).toBe('refused');
    expect(await paidTo(api.url)).toBe(false);
    await page.close();
  });
});
