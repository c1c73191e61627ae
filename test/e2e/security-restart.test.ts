// A worker restart never makes the user pay twice for one thing (docs/security.md). The service's
// invoices are hold invoices on alice, so the test decides when the in-flight payment settles, and the worker is
// stopped (CDP ServiceWorker.stopAllWorkers) and woken (by the page itself) at chosen moments: deterministic orders.
import { Buffer } from 'node:buffer';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndConfigFromDir } from '../../server/lightning/lnd-rest.ts';
import { regtest } from '../integration/regtest-context.ts';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';
import { type HoldInvoiceService, type LndNode, startHoldInvoiceService } from './fixtures/hold-invoice-service.ts';
import { autoPay, nextPrompt, nwcSettings, type Ui, uiClient } from './helpers.ts';

describe('security: a worker restart never pays twice', () => {
  let ext: LaunchedExtension;
  let ui: Ui;
  let alice: LndNode;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const n = regtest().nodes.alice;
    const cfg = lndConfigFromDir(n.restUrl, n.lnddir);
    alice = { restUrl: n.restUrl, tlsCertPem: Buffer.from(cfg.tlsCertPem), macaroonHex: cfg.macaroonHex };
    ext = await launchExtension();
    ({ ui } = await uiClient(ext));
  });
  afterAll(async () => {
    await ext?.close();
    for (const c of closers) await c().catch(() => {});
  });

  const holdService = async () => {
    const s = await startHoldInvoiceService({ node: alice, priceMsat: 10_000 });
    closers.push(() => s.close());
    return s;
  };

  /** Resolves with `what` once `check` holds (polled), so it can race the page's own answer. */
  const once = async <T>(check: () => Promise<boolean>, what: T): Promise<T> => {
    for (;;) {
      if (await check().catch(() => false)) return what;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const heldAt = (s: HoldInvoiceService, i: number) => async () =>
    s.hashes[i] !== undefined && (await s.state(s.hashes[i])) === 'ACCEPTED';

  /** The page fetches `path` on its own origin: the status and the extension's error code, if any. */
  const fetchWithWhy = (page: Page, path: string) =>
    page.evaluate(async (p) => {
      const why = new Promise<string>((res) =>
        window.addEventListener('l402-autopilot:error', (e) => res((e as CustomEvent<{ code: string }>).detail.code), {
          once: true,
        }),
      );
      const status = (await fetch(p)).status;
      return { status, code: status === 200 ? null : await why };
    }, path);

  /** Auto-pay on; the page's first call is paid and held in flight at alice; then the worker is stopped. */
  const payAndStopInFlight = async () => {
    const s = await holdService();
    await ui('saveSettings', nwcSettings([autoPay(s.url)]));
    const page = await ext.page();
    await page.goto(`${s.url}/page`);
    void page.evaluate(() =>
      fetch('/paid').then(
        (r) => r.status,
        () => 0,
      ),
    );
    await expect.poll(heldAt(s, 0), { timeout: 30_000 }).toBe(true);
    await ext.stopServiceWorker();
    return { s, page };
  };

  /** After the first payment settled: one record, succeeded, and no later invoice ever paid. */
  const paidOnce = async (s: HoldInvoiceService) => {
    const ui2 = (await uiClient(ext)).ui;
    await expect
      .poll(async () => (await ui2('listPayments', { origin: s.url })).map((p) => p.status), { timeout: 60_000 })
      .toEqual(['succeeded']);
    const later = await Promise.all(s.hashes.slice(1).map((h) => s.state(h)));
    expect(later.every((st) => st === 'OPEN')).toBe(true);
    ui = ui2;
  };

  it('stopped while in flight, woken by the page calling again: payment_unknown, no second invoice paid; then its token serves', async () => {
    const { s, page } = await payAndStopInFlight();
    await page.reload();
    // The page's own call wakes the worker; the server answers it with a NEW invoice for the same resource.
    const answer = await Promise.race([fetchWithWhy(page, '/paid'), once(heldAt(s, 1), 'a second invoice was paid')]);
    expect(answer).toEqual({ status: 402, code: 'payment_unknown' });
    await s.settle(s.hashes[0] as string);
    await paidOnce(s);
    expect(await fetchWithWhy(page, '/paid')).toEqual({ status: 200, code: null });
    expect((await ui('listPayments', { origin: s.url })).length).toBe(1);
    await page.close();
  });

  // Repeated: whether the woken worker sees the navigation's 402 before or after its resume pass varies by run.
  it.each([1, 2, 3])(
    'stopped while in flight, woken by the page navigating to the paid URL: no second invoice paid; after settle it opens with one payment (run %i)',
    async () => {
      const { s, page } = await payAndStopInFlight();
      // The navigation's 402 (with a NEW invoice) wakes the worker: nothing else talks to it meanwhile.
      await page.goto(`${s.url}/paid`).catch(() => null);
      expect(s.hashes).toHaveLength(2);
      await s.settle(s.hashes[0] as string);
      await paidOnce(s);
      await page.goto(`${s.url}/paid`).catch(() => null);
      await expect.poll(() => page.content(), { timeout: 30_000 }).toContain('paid content');
      expect((await ui('listPayments', { origin: s.url })).length).toBe(1);
      expect(await Promise.all(s.hashes.slice(1).map((h) => s.state(h)))).not.toContain('ACCEPTED');
      await page.close();
    },
  );

  // Repeated: which of the two prompts the user answers first after the restart is the race; both orders run.
  it.each(['stale prompt first', 'new prompt first'] as const)(
    'stopped with a prompt open, then both prompts approved: one invoice paid; meanwhile the prompt and the popup say a payment is being checked (%s)',
    async (order) => {
      const s = await holdService();
      await ui('saveSettings', nwcSettings([])); // no rule: every payment asks
      const page = await ext.page();
      await page.goto(`${s.url}/page`);
      void page.evaluate(() =>
        fetch('/paid').then(
          (r) => r.status,
          () => 0,
        ),
      );
      const stale = await nextPrompt(ext);
      await ext.stopServiceWorker();
      // The page's own call wakes the worker and gets a NEW invoice: a second prompt for the same resource.
      await page.reload();
      const second = fetchWithWhy(page, '/paid');
      const fresh = await nextPrompt(ext);
      expect(fresh.id).not.toBe(stale.id);
      const ui2 = (await uiClient(ext)).ui;
      const approve = async (id: string) => ui2('answerPrompt', { id, answer: { choice: 'approve-once' } });
      if (order === 'stale prompt first') await approve(stale.id);
      await approve(fresh.id);
      await expect.poll(heldAt(s, 1), { timeout: 30_000 }).toBe(true);
      if (order === 'new prompt first') {
        // The stale prompt, still open while the new payment is in flight, says a payment is being checked.
        await expect.poll(() => stale.page.getByTestId('payment-checking').count(), { timeout: 10_000 }).toBe(1);
        await approve(stale.id).catch(() => null);
      }
      const popup = await ext.openExtensionPage(
        `src/extension/ui/popup/index.html?origin=${encodeURIComponent(s.url)}`,
      );
      await expect.poll(() => popup.getByTestId('payment-checking').count(), { timeout: 10_000 }).toBe(1);
      expect(await popup.getByTestId('payment-checking').textContent()).toMatch(/being checked/);
      // While it is held, the page calling again (a new invoice) joins the payment in flight: nothing new is paid.
      const page2 = await ext.page();
      await page2.goto(`${s.url}/page`);
      const third = fetchWithWhy(page2, '/paid');
      await expect.poll(() => s.hashes.length, { timeout: 30_000 }).toBe(3);
      await s.settle(s.hashes[1] as string);
      expect(await second).toEqual({ status: 200, code: null });
      expect(await third).toEqual({ status: 200, code: null });
      await expect
        .poll(async () => (await ui2('listPayments', { origin: s.url })).map((p) => p.status), { timeout: 60_000 })
        .toEqual(['succeeded']);
      const others = await Promise.all(s.hashes.filter((_, i) => i !== 1).map((h) => s.state(h)));
      expect(others.every((st) => st === 'OPEN')).toBe(true);
      await expect.poll(() => popup.getByTestId('payment-checking').count(), { timeout: 10_000 }).toBe(0);
      ui = ui2;
      await Promise.all([page.close(), page2.close(), popup.close()]);
    },
  );

  // Repeated: whether the woken worker's resume pass or the page's call reaches the wallet first varies by run.
  it.each([1, 2, 3])(
    'stopped while in flight, settled while stopped, woken by the page calling again: served by the recovered token, one payment (run %i)',
    async () => {
      const { s, page } = await payAndStopInFlight();
      await s.settle(s.hashes[0] as string);
      await page.reload();
      const answer = await Promise.race([fetchWithWhy(page, '/paid'), once(heldAt(s, 1), 'a second invoice was paid')]);
      expect(answer).toEqual({ status: 200, code: null });
      await paidOnce(s);
      await page.close();
    },
  );
});
