// Wallet kind 'webln' pays through the provider of the tab that raised the 402 (or called window.webln) —
// never the tab that happened to message the background last (two tabs at once used to pick the wrong one).
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../messaging/protocol.ts';
import { createAutopilot } from './autopilot.ts';
import type { WalletContext } from './payment-flow.ts';
import { pageWallet } from './senders.ts';
import { saveSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import { FakeWallet, makeChallenge, NOW, settingsWith } from '../../../test/support/background-fixtures.ts';
import { handleWeblnSendPayment, weblnPermission } from './webln-payments.ts';
import { errorMessage } from '../../util/error-message.ts';

const A = 'https://a.example';
const B = 'https://b.example';
const AUTO = [A, B].map((pattern) => ({ pattern, budgetMsat: 100_000, period: 'daily' as const, autoPay: true }));

async function twoTabs() {
  const storage = memoryStorage();
  await saveSettings(storage, { ...settingsWith({ sites: AUTO }), wallet: { kind: 'webln' } });
  // Each tab's page has its own WebLN wallet, which knows only the invoices of its own page.
  const tabs = new Map([
    [1, new FakeWallet()],
    [2, new FakeWallet()],
  ]);
  const asked: number[] = [];
  // As the background does it (index.ts currentWallet): a page wallet bound to the context's tab.
  const send = async (tabId: number, msg: Envelope) => {
    asked.push(tabId);
    const w = tabs.get(tabId);
    if (!w) return undefined;
    try {
      // What the page answers (main-world/index.ts): the preimage only.
      const { preimage } = await w.payInvoice((msg.arg as { paymentRequest: string }).paymentRequest);
      return { ok: true, value: { preimage } };
    } catch (e) {
      return { ok: false, error: { code: 'payment_failed', message: errorMessage(e) } };
    }
  };
  const wallet = async (ctx: WalletContext = {}) => {
    const tabId = ctx.tabId ?? -1;
    return pageWallet(send, () => tabId);
  };
  const autopilot = createAutopilot({ storage, clock: () => NOW, wallet, prompt: async () => ({ choice: 'deny' }) });
  return { storage, tabs, asked, autopilot };
}

describe("wallet kind 'webln': the asking tab pays", () => {
  it('two tabs raising 402s at the same time are each paid through their own page', async () => {
    const { tabs, asked, autopilot } = await twoTabs();
    const t1 = tabs.get(1) as FakeWallet;
    const t2 = tabs.get(2) as FakeWallet;
    const c1 = t1.know(makeChallenge({ sats: 2 }));
    const c2 = t2.know(makeChallenge({ sats: 3 }));
    // Hold tab 1's payment until tab 2's challenge has come in (the interleaving that broke "last tab").
    let release = () => {};
    t1.gate = () => new Promise<void>((r) => (release = r));
    const p1 = autopilot.handleChallenge({
      serviceUrl: `${A}/x`,
      initiator: A,
      tabId: 1,
      wwwAuthenticate: c1.header,
      source: 'navigation',
      confirmedByBrowser: true,
    });
    await new Promise((r) => setTimeout(r, 0));
    const p2 = autopilot.handleChallenge({
      serviceUrl: `${B}/y`,
      initiator: B,
      tabId: 2,
      wwwAuthenticate: c2.header,
      source: 'navigation',
      confirmedByBrowser: true,
    });
    const r2 = await p2;
    release();
    const r1 = await p1;
    expect(r1.paid && r2.paid).toBe(true);
    expect(t1.paid).toEqual([c1.paymentHash]);
    expect(t2.paid).toEqual([c2.paymentHash]);
    expect(asked.sort()).toEqual([1, 2]);
  });

  it('window.webln sendPayment from a tab pays through that tab; without a tab nothing is paid', async () => {
    const { storage, tabs, asked, autopilot } = await twoTabs();
    await weblnPermission.enable(storage, B, NOW);
    const c = (tabs.get(2) as FakeWallet).know(makeChallenge({ sats: 1 }));
    expect(
      await handleWeblnSendPayment(autopilot.flow, { pageOrigin: B, tabId: 2, paymentRequest: c.invoice }),
    ).toEqual({
      preimage: c.preimage,
    });
    expect(asked).toEqual([2]);
    const other = (tabs.get(2) as FakeWallet).know(makeChallenge({ sats: 1 }));
    await expect(
      handleWeblnSendPayment(autopilot.flow, { pageOrigin: B, paymentRequest: other.invoice }),
    ).rejects.toMatchObject({
      code: 'wallet_unavailable',
    });
    expect(asked).toEqual([2]);
  });

  it("a page's malformed answer is refused as a failed payment, whatever the page claims", async () => {
    const answers: unknown[] = [
      { ok: true, value: { preimage: 'zz' } },
      { ok: true, value: { preimage: 'ab'.repeat(32), extra: 1 } },
      { ok: true },
      { ok: false, error: { code: 7 } },
      'paid',
    ];
    for (const answer of answers) {
      const w = pageWallet(
        async () => answer,
        () => 1,
      );
      await expect(w.payInvoice('lnbcrt1x')).rejects.toMatchObject({ code: 'payment_failed' });
    }
    await expect(
      pageWallet(
        async () => undefined,
        () => 1,
      ).payInvoice('lnbcrt1x'),
    ).rejects.toMatchObject({ code: 'unreachable' });
    const ok = pageWallet(
      async () => ({ ok: true, value: { preimage: 'ab'.repeat(32) } }),
      () => 1,
    );
    expect(await ok.payInvoice('lnbcrt1x')).toEqual({ preimage: 'ab'.repeat(32), feeMsat: null });
  });
});
