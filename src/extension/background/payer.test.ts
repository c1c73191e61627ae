import { describe, expect, it } from 'vitest';
import { type DecodedInvoice, decodeInvoice } from '../../l402/index.ts';
import type { AutopilotError } from './errors.ts';
import { getPayment } from './ledger.ts';
import { executePayment, type PaymentIntent, preparePayment, resumePending } from './payer.ts';
import { getReservation } from './reservations.ts';
import { memoryStorage } from './storage.ts';
import { FakeWallet, makeChallenge, NOW, settingsWith } from '../../../test/support/background-fixtures.ts';
import { listTokens } from './tokens.ts';

const SERVICE = 'https://api.example.com';
const PAGE = 'https://app.example.org';
// The budget is the page's (the initiator), not the service's.
const RULES = settingsWith({ sites: [{ pattern: PAGE, budgetMsat: 1_000_000, period: 'daily', autoPay: true }] }).rules;

function intentFor(invoice: string, macaroon: string | null = null): PaymentIntent {
  return {
    invoice: decodeInvoice(invoice) as DecodedInvoice & { amountMsat: number },
    serviceOrigin: SERVICE,
    initiator: PAGE,
    url: `${SERVICE}/x`,
    kind: 'l402',
    macaroon,
    rules: RULES,
    walletKind: 'nwc',
  };
}

describe('payer', () => {
  it('a payment hash is reserved and paid once, even when prepared concurrently', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    const wallet = new FakeWallet();
    const c = wallet.know(makeChallenge());
    const prepared = await Promise.all(
      Array.from({ length: 10 }, () => preparePayment(deps, intentFor(c.invoice, c.macaroon))),
    );
    const reserved = prepared.filter((p) => p.kind === 'reserved');
    expect(reserved).toHaveLength(1);
    expect(prepared.filter((p) => p.kind === 'known')).toHaveLength(9);
    // The pending record exists BEFORE the wallet is called.
    expect(await getPayment(storage, c.paymentHash)).toMatchObject({
      status: 'pending',
      macaroon: c.macaroon,
      amountMsat: 10_000,
    });
    const first = reserved[0];
    if (first?.kind !== 'reserved') throw new Error('unreachable');
    const done = await executePayment({ ...deps, wallet, walletKind: 'nwc' }, first.record);
    expect(done).toMatchObject({ status: 'succeeded', preimage: c.preimage, feeMsat: 1000 });
    expect((await preparePayment(deps, intentFor(c.invoice, c.macaroon))).kind).toBe('known');
    expect(wallet.paid).toHaveLength(1);
    expect((await listTokens(deps)).map((t) => t.paymentHash)).toEqual([c.paymentHash]);
  });

  it('a fee the wallet does not report counts as the max fee', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    const wallet = new FakeWallet();
    wallet.feeMsat = null;
    const c = wallet.know(makeChallenge({ sats: 10 }));
    const p = await preparePayment(deps, intentFor(c.invoice));
    if (p.kind !== 'reserved') throw new Error('not reserved');
    await executePayment({ ...deps, wallet, walletKind: 'nwc' }, p.record);
    expect(await getReservation(storage, c.paymentHash)).toMatchObject({ state: 'committed', spentMsat: 20_000 });
  });

  it('timeout: unknown, reserved; the immediate lookup settles it when the wallet knows', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    const wallet = new FakeWallet();
    wallet.behaviour = 'timeout';
    const c = wallet.know(makeChallenge());
    const p = await preparePayment(deps, intentFor(c.invoice, c.macaroon));
    if (p.kind !== 'reserved') throw new Error('not reserved');
    expect((await executePayment({ ...deps, wallet, walletKind: 'nwc' }, p.record)).status).toBe('succeeded');
    expect(wallet.paid).toHaveLength(1);
  });

  it('timeout with no way to look up: stays unknown and reserved across restarts', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    const wallet = new FakeWallet();
    wallet.behaviour = 'timeout';
    const noLookup = { payInvoice: wallet.payInvoice.bind(wallet) };
    const c = wallet.know(makeChallenge());
    const p = await preparePayment(deps, intentFor(c.invoice));
    if (p.kind !== 'reserved') throw new Error('not reserved');
    const err = await executePayment({ ...deps, wallet: noLookup, walletKind: 'nwc' }, p.record).catch(
      (e: unknown) => e,
    );
    expect((err as AutopilotError).code).toBe('payment_unknown');
    expect(await resumePending({ ...deps, wallet: noLookup })).toEqual({
      succeeded: [],
      failed: [],
      stillUnknown: [c.paymentHash],
    });
    expect(await resumePending({ ...deps, wallet: null })).toEqual({
      succeeded: [],
      failed: [],
      stillUnknown: [c.paymentHash],
    });
    expect(await getReservation(storage, c.paymentHash)).toMatchObject({ state: 'reserved' });
  });
});
