// A wallet answer that does not say the payment failed for sure is "unknown": looked up, never paid again
// (docs/security.md "Unknown wallet answers"). A second NWC wallet service on the regtest relay sits in front of the
// payer's lnd (bob): it really pays over regtest, then answers INTERNAL, OTHER, a code no spec names, or nothing.
// The extension must look the payment up (NIP-47 lookup_invoice), end with the paid preimage, hand the page its 200,
// and never pay a second invoice for it.
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lndLightningNode } from '../../server/nostr/lnd-lightning-node.ts';
import { type NwcWalletServiceHandle, startNwcWalletService } from '../../server/nostr/nwc-wallet-service.ts';
import { lnd, regtest } from '../integration/regtest-context.ts';
import {
  type AfterPay,
  type WalletLog,
  startMisreportingService,
  startUnknownCodeService,
} from '../support/after-pay-faults.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { startPageServer } from './fixtures/l402-page-server.ts';
import { autoPay, nwcSettings } from './helpers.ts';

type Answer = { nip47: string; service: () => Promise<NwcWalletServiceHandle & { log: WalletLog }> };

describe('security: a wallet answer that does not say the payment failed is looked up, never paid again', () => {
  const suite = extensionSuite();
  const { ui, closers } = suite;
  const bob = lnd('bob');
  const track = async <T extends { close(): Promise<void> }>(s: Promise<T>): Promise<T> => {
    const started = await s;
    closers.push(() => started.close());
    return started;
  };
  const misreporting = (after: AfterPay) => () =>
    track(startMisreportingService({ relayUrl: regtest().relayUrl, node: lndLightningNode(bob), after }));

  /** The page fetches `path` on its own origin: the status, and the extension's error code if it reported one. */
  const fetchWithWhy = (page: Page, path: string) =>
    page.evaluate(async (p) => {
      let why: string | null = null;
      window.addEventListener('l402-autopilot:error', (e) => {
        why = (e as CustomEvent<{ code: string }>).detail.code;
      });
      const status = (await fetch(p)).status;
      for (let i = 0; i < 40 && status !== 200 && why === null; i++) await new Promise((r) => setTimeout(r, 50));
      return { status, code: why as string | null };
    }, path);

  const answers: Answer[] = [
    { nip47: 'INTERNAL', service: misreporting('INTERNAL') },
    { nip47: 'OTHER', service: misreporting('INVALID') },
    {
      nip47: 'an unknown code (WALLET_ON_FIRE)',
      service: async () => {
        const inner = await track(startNwcWalletService({ relayUrl: regtest().relayUrl, node: lndLightningNode(bob) }));
        return track(
          startUnknownCodeService({ relayUrl: regtest().relayUrl, innerUri: inner.nwcUri, code: 'WALLET_ON_FIRE' }),
        );
      },
    },
    { nip47: 'no answer at all (lost after publishing)', service: misreporting('never-returns') },
  ];

  it.each(answers)(
    'the wallet pays, then answers $nip47: one payment leaves lnd, the page gets its 200 with the paid preimage',
    async ({ service }) => {
      const wallet = await service();
      const s = await track(startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 3_000 }));
      await ui('saveSettings', nwcSettings([autoPay(s.url)], { wallet: { kind: 'nwc', uri: wallet.nwcUri } }));
      const page = await suite.ext.page();
      await page.goto(`${s.url}/free`);
      const before = new Set((await bob.listPayments(10_000)).map((p) => p.paymentHash));
      /** Payments bob's lnd made since the page loaded. */
      const sentSince = async () => (await bob.listPayments(10_000)).filter((p) => !before.has(p.paymentHash));

      const first = await fetchWithWhy(page, '/paid');
      expect(first).toEqual({ status: 200, code: null });

      // Exactly one payment left the payer's node, for the one invoice the server issued, and it settled.
      expect(s.issued).toHaveLength(1);
      const hash = s.issued[0] as string;
      const sent = await sentSince();
      expect(sent.map((p) => [p.paymentHash, p.status])).toEqual([[hash, 'SUCCEEDED']]);
      // The wallet paid and misreported; the extension then looked the payment up (NIP-47 lookup_invoice).
      expect(wallet.log[0]).toBe(`paid ${hash}`);
      expect(wallet.log.slice(1)).toContain(`lookup ${hash}`);
      // The ledger: one record, succeeded, with the preimage the lookup found (it hashes to the invoice's hash).
      const records = await ui('listPayments', { origin: s.url });
      expect(records.map((r) => [r.paymentHash, r.status])).toEqual([[hash, 'succeeded']]);
      const preimage = records[0]?.preimage ?? '';
      expect(createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex')).toBe(hash);
      expect(preimage).toBe(sent[0]?.preimageHex);

      // The token it bought serves the next call: no new invoice, no second payment, the record untouched.
      expect(await fetchWithWhy(page, '/paid')).toEqual({ status: 200, code: null });
      expect(s.issued).toHaveLength(1);
      expect(await sentSince()).toEqual(sent);
      expect(await ui('listPayments', { origin: s.url })).toEqual(records);
      await page.close();
    },
  );

  it('the wallet pays, then answers INTERNAL, and its lookup cannot tell either: the record stays unknown and no second invoice is paid', async () => {
    const wallet = await track(
      startMisreportingService({
        relayUrl: regtest().relayUrl,
        node: lndLightningNode(bob),
        after: 'INTERNAL',
        lookupFails: true,
      }),
    );
    const s = await track(startPageServer({ backend: lndBackend(lnd('alice')), priceMsat: 3_000 }));
    await ui('saveSettings', nwcSettings([autoPay(s.url)], { wallet: { kind: 'nwc', uri: wallet.nwcUri } }));
    const page = await suite.ext.page();
    await page.goto(`${s.url}/free`);
    const before = new Set((await bob.listPayments(10_000)).map((p) => p.paymentHash));
    const sentSince = async () => (await bob.listPayments(10_000)).filter((p) => !before.has(p.paymentHash));

    expect(await fetchWithWhy(page, '/paid')).toEqual({ status: 402, code: 'payment_unknown' });
    const hash = s.issued[0] as string;
    // The page asks again and the server answers with a NEW invoice: the open payment is looked up first, still
    // cannot be told, so nothing is paid (docs/security.md, "a second invoice … while the first payment's outcome
    // is still unknown").
    expect(await fetchWithWhy(page, '/paid')).toEqual({ status: 402, code: 'payment_unknown' });
    expect(s.issued).toHaveLength(2);
    expect((await sentSince()).map((p) => [p.paymentHash, p.status])).toEqual([[hash, 'SUCCEEDED']]);
    expect(wallet.log.filter((l) => l.startsWith('paid '))).toEqual([`paid ${hash}`]);
    expect(wallet.log.filter((l) => l === `lookup ${hash}`).length).toBeGreaterThanOrEqual(2);
    const records = await ui('listPayments', { origin: s.url });
    expect(records.map((r) => [r.paymentHash, r.status])).toEqual([[hash, 'unknown']]);
    await page.close();
  });
});
