import { describe, expect, it } from 'vitest';
import { paymentHashOf } from '../../l402/index.ts';
import type { InvoiceLookup, KeysendRequest, PaymentResult } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/wallet.ts';
import type { PromptAnswer, PromptRequest } from '../model/model.ts';
import { AutopilotError } from './errors.ts';
import { getPayment } from './ledger.ts';
import { createPaymentFlow } from './payment-flow.ts';
import { saveSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import { FakeWallet, makeChallenge, NOW, settingsWith } from '../../../test/support/background-fixtures.ts';
import {
  handleWeblnEnable,
  handleWeblnKeysend,
  handleWeblnLookupInvoice,
  handleWeblnSendPayment,
  handleWeblnSignMessage,
  weblnPermission,
} from './webln-payments.ts';

const SITE = 'https://shop.example';

async function setup(answers: PromptAnswer[] = []) {
  const storage = memoryStorage();
  await saveSettings(
    storage,
    settingsWith({ sites: [{ pattern: SITE, budgetMsat: 50_000, period: 'daily', autoPay: true }] }),
  );
  const wallet = new FakeWallet();
  const prompts: PromptRequest[] = [];
  const flow = createPaymentFlow({
    storage,
    clock: () => NOW,
    wallet: async () => wallet,
    prompt: async (r) => {
      prompts.push(r);
      return answers.shift() ?? { choice: 'deny' };
    },
  });
  return { storage, wallet, prompts, flow };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e: unknown) => (e instanceof AutopilotError ? e.code : 'foreign'),
  );
}

describe('WebLN', () => {
  it('enable asks once per site; a denial is an error; sendPayment needs enable first', async () => {
    const { flow, storage, prompts, wallet } = await setup([{ choice: 'deny' }, { choice: 'approve-once' }]);
    const c = wallet.know(makeChallenge({ sats: 5 }));
    expect(await codeOf(handleWeblnSendPayment(flow, { pageOrigin: SITE, paymentRequest: c.invoice }))).toBe(
      'not_enabled',
    );
    expect(await codeOf(handleWeblnEnable(flow, { pageOrigin: SITE }))).toBe('rejected_by_user');
    expect(await handleWeblnEnable(flow, { pageOrigin: SITE })).toEqual({ enabled: true });
    expect(await handleWeblnEnable(flow, { pageOrigin: SITE })).toEqual({ enabled: true });
    expect(prompts.map((p) => p.kind)).toEqual(['webln-enable', 'webln-enable']);
    expect(await weblnPermission.list(storage)).toEqual([{ origin: SITE, enabledAt: NOW }]);
    expect(wallet.paid).toEqual([]);
  });

  it('sendPayment goes through the rules, reserves, verifies and records a webln payment', async () => {
    const { flow, storage, wallet, prompts } = await setup();
    await weblnPermission.enable(storage, SITE, NOW);
    const c = wallet.know(makeChallenge({ sats: 5 }));
    expect(await handleWeblnSendPayment(flow, { pageOrigin: SITE, paymentRequest: c.invoice })).toEqual({
      preimage: c.preimage,
    });
    expect(await getPayment(storage, c.paymentHash)).toMatchObject({
      kind: 'webln',
      origin: SITE,
      status: 'succeeded',
      macaroon: null,
    });
    // Budget 50 sats, 15 reserved per payment (5 + 10 fee floor) → over budget → prompt (denied).
    wallet.feeMsat = 10_000;
    for (let i = 0; i < 3; i++)
      await handleWeblnSendPayment(flow, {
        pageOrigin: SITE,
        paymentRequest: wallet.know(makeChallenge({ sats: 5 })).invoice,
      }).catch(() => {});
    expect(wallet.paid).toHaveLength(3);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ kind: 'webln-payment', origin: SITE, initiator: SITE });
  });

  it("a WebLN payment counts against the calling page's own budget: another site's budget never covers it", async () => {
    const { flow, storage, wallet, prompts } = await setup();
    const other = 'https://other.example';
    await weblnPermission.enable(storage, other, NOW);
    await weblnPermission.enable(storage, SITE, NOW);
    // SITE has an auto-pay budget; `other` has none: asked (denied), nothing reserved from SITE's budget.
    expect(
      await codeOf(
        handleWeblnSendPayment(flow, {
          pageOrigin: other,
          paymentRequest: wallet.know(makeChallenge({ sats: 5 })).invoice,
        }),
      ),
    ).toBe('rejected_by_user');
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ origin: other, initiator: other, siteRemainingMsat: null });
    expect(wallet.paid).toEqual([]);
    // SITE's whole budget is still there: its payment is silent.
    const c = wallet.know(makeChallenge({ sats: 5 }));
    expect(await handleWeblnSendPayment(flow, { pageOrigin: SITE, paymentRequest: c.invoice })).toEqual({
      preimage: c.preimage,
    });
    expect(await getPayment(storage, c.paymentHash)).toMatchObject({ origin: SITE, initiator: SITE });
    expect(prompts).toHaveLength(1);
  });

  it('auto-pay for sites without a rule never covers WebLN: such a site is asked every time', async () => {
    const { flow, storage, wallet, prompts } = await setup([{ choice: 'approve-once' }]);
    await saveSettings(
      storage,
      settingsWith({ autoPayUnlisted: true, perPaymentCapMsat: 100_000, dailyCapMsat: 1_000_000 }),
    );
    const other = 'https://unlisted.example';
    await weblnPermission.enable(storage, other, NOW);
    const c = wallet.know(makeChallenge({ sats: 5 }));
    expect(await handleWeblnSendPayment(flow, { pageOrigin: other, paymentRequest: c.invoice })).toEqual({
      preimage: c.preimage,
    });
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ kind: 'webln-payment', origin: other });
    expect(
      await codeOf(
        handleWeblnSendPayment(flow, {
          pageOrigin: other,
          paymentRequest: wallet.know(makeChallenge({ sats: 5 })).invoice,
        }),
      ),
    ).toBe('rejected_by_user');
    expect(wallet.paid).toHaveLength(1);
  });

  it('refuses invoices that are expired or for another network', async () => {
    const { flow, storage, wallet } = await setup();
    await weblnPermission.enable(storage, SITE, NOW);
    const expired = makeChallenge({ now: NOW - 7_200_000 });
    expect(await codeOf(handleWeblnSendPayment(flow, { pageOrigin: SITE, paymentRequest: expired.invoice }))).toBe(
      'invalid_challenge',
    );
    // The wallet's network is read once per wallet object: a mainnet wallet refuses a regtest invoice.
    const mainnet = await setup();
    mainnet.wallet.network = 'bitcoin';
    await weblnPermission.enable(mainnet.storage, SITE, NOW);
    const fresh = mainnet.wallet.know(makeChallenge());
    expect(
      await codeOf(handleWeblnSendPayment(mainnet.flow, { pageOrigin: SITE, paymentRequest: fresh.invoice })),
    ).toBe('invalid_challenge');
    expect(mainnet.wallet.paid).toEqual([]);
    expect(await codeOf(handleWeblnSendPayment(flow, { pageOrigin: SITE, paymentRequest: 'not an invoice' }))).toBe(
      'invalid_challenge',
    );
    expect(wallet.paid).toEqual([]);
    expect(await weblnPermission.revoke(storage, SITE)).toBe(true);
  });
});

/** A FakeWallet that can also keysend (with the caller's preimage), look invoices up and sign. */
class FullWallet extends FakeWallet {
  readonly keysends: KeysendRequest[] = [];
  keysendMethods = true;
  /** The wallet lists pay_keysend but answers NOT_IMPLEMENTED. */
  keysendNotImplemented = false;
  lookups = new Map<string, InvoiceLookup>();
  async keysend(r: KeysendRequest): Promise<PaymentResult> {
    this.keysends.push(r);
    if (this.behaviour === 'wrong_preimage') return { preimage: 'ff'.repeat(32), feeMsat: 0 };
    if (this.keysendNotImplemented) throw new WalletError('unsupported', 'pay_keysend: NOT_IMPLEMENTED');
    return { preimage: r.preimage, feeMsat: 0 };
  }
  async lookupInvoice(hash: string): Promise<InvoiceLookup> {
    const r = this.lookups.get(hash);
    if (!r) throw new WalletError('internal', 'lookup_invoice: NOT_FOUND: invoice not found');
    return r;
  }
  async signMessage(message: string) {
    return { message, signature: `sig:${message}` };
  }
  async supports(m: 'lookupInvoice' | 'keysend' | 'signMessage') {
    return m !== 'keysend' || this.keysendMethods;
  }
}

const DEST = `03${'a1'.repeat(32)}`;
const PRE = '5e'.repeat(32);

async function setupFull(answers: PromptAnswer[] = []) {
  const s = await setup(answers);
  const wallet = new FullWallet();
  const asked: unknown[] = [];
  const flow = createPaymentFlow({
    ...s.flow.deps,
    wallet: async (ctx) => {
      asked.push(ctx);
      return wallet;
    },
  });
  await weblnPermission.enable(s.storage, SITE, NOW);
  return { ...s, flow, wallet, asked };
}

describe('WebLN keysend', () => {
  it('pays through the rules with our preimage, records it, and returns the verified preimage', async () => {
    const { flow, storage, wallet, prompts, asked } = await setupFull();
    const r = await handleWeblnKeysend(flow, {
      pageOrigin: SITE,
      tabId: 7,
      destination: DEST,
      amount: '21',
      customRecords: { '696969': 'hello' },
      newPreimage: () => PRE,
    });
    expect(r).toEqual({ preimage: PRE });
    expect(wallet.keysends).toEqual([
      { destination: DEST, amountMsat: 21_000, preimage: PRE, customRecords: { '696969': 'hello' } },
    ]);
    expect(await getPayment(storage, paymentHashOf(PRE))).toMatchObject({
      kind: 'webln',
      origin: SITE,
      status: 'succeeded',
      amountMsat: 21_000,
      invoice: `keysend:${DEST}`,
      preimage: PRE,
    });
    expect(prompts).toEqual([]);
    expect(asked).toEqual([{ tabId: 7 }]);
  });

  it('outside the budget it prompts like sendPayment; a denial pays nothing', async () => {
    const { flow, wallet, prompts } = await setupFull([{ choice: 'deny' }]);
    // Budget 50 sats: 45 + 10 fee floor does not fit.
    const p = handleWeblnKeysend(flow, { pageOrigin: SITE, destination: DEST, amount: 45, newPreimage: () => PRE });
    expect(await codeOf(p)).toBe('rejected_by_user');
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      kind: 'webln-payment',
      amountMsat: 45_000,
      memo: expect.stringMatching(/^keysend to 03a1/),
    });
    expect(wallet.keysends).toEqual([]);
  });

  it('a wrong preimage is bad_preimage (amount stays reserved); bad arguments are invalid_request', async () => {
    const { flow, wallet, storage } = await setupFull();
    wallet.behaviour = 'wrong_preimage';
    expect(
      await codeOf(
        handleWeblnKeysend(flow, { pageOrigin: SITE, destination: DEST, amount: 1, newPreimage: () => PRE }),
      ),
    ).toBe('bad_preimage');
    expect((await getPayment(storage, paymentHashOf(PRE)))?.status).toBe('unknown');
    for (const bad of [{ amount: 0 }, { amount: '1.5' }, { amount: -3 }, { destination: 'ab'.repeat(33) }]) {
      expect(await codeOf(handleWeblnKeysend(flow, { pageOrigin: SITE, destination: DEST, amount: 1, ...bad }))).toBe(
        'invalid_request',
      );
    }
  });

  it('a wallet that cannot keysend gives the clean unsupported error before anything is reserved', async () => {
    const { flow, wallet, storage } = await setupFull();
    wallet.keysendMethods = false;
    const err = await handleWeblnKeysend(flow, {
      pageOrigin: SITE,
      destination: DEST,
      amount: 1,
      newPreimage: () => PRE,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AutopilotError);
    expect(err).toMatchObject({ code: 'unsupported', message: 'keysend is not supported by this wallet' });
    expect(wallet.keysends).toEqual([]);
    expect(await getPayment(storage, paymentHashOf(PRE))).toBeUndefined();
    // A plain FakeWallet has no keysend at all.
    const plain = await setup();
    await weblnPermission.enable(plain.storage, SITE, NOW);
    expect(await codeOf(handleWeblnKeysend(plain.flow, { pageOrigin: SITE, destination: DEST, amount: 1 }))).toBe(
      'unsupported',
    );
    // A wallet that lists it but answers NOT_IMPLEMENTED: still "unsupported" (the budget is released).
    wallet.keysendMethods = true;
    wallet.keysendNotImplemented = true;
    expect(
      await codeOf(
        handleWeblnKeysend(flow, { pageOrigin: SITE, destination: DEST, amount: 1, newPreimage: () => PRE }),
      ),
    ).toBe('unsupported');
    expect((await getPayment(storage, paymentHashOf(PRE)))?.status).toBe('failed');
  });

  it('needs enable first', async () => {
    const { flow, wallet } = await setup();
    expect(await codeOf(handleWeblnKeysend(flow, { pageOrigin: SITE, destination: DEST, amount: 1 }))).toBe(
      'not_enabled',
    );
    expect(wallet.paid).toEqual([]);
  });
});

describe('WebLN lookupInvoice and signMessage', () => {
  it('lookupInvoice by hash or invoice; the preimage only for an invoice the wallet received', async () => {
    const { flow, wallet, asked } = await setupFull();
    const incoming = makeChallenge({ sats: 3 });
    const outgoing = makeChallenge({ sats: 4 });
    const base = { paid: true, amountMsat: 3000 };
    wallet.lookups.set(incoming.paymentHash, {
      ...base,
      type: 'incoming',
      paymentRequest: incoming.invoice,
      paymentHash: incoming.paymentHash,
      preimage: incoming.preimage,
    });
    wallet.lookups.set(outgoing.paymentHash, {
      ...base,
      type: 'outgoing',
      paymentRequest: outgoing.invoice,
      paymentHash: outgoing.paymentHash,
      preimage: outgoing.preimage,
    });
    expect(
      await handleWeblnLookupInvoice(flow, { pageOrigin: SITE, tabId: 3, paymentRequest: incoming.invoice }),
    ).toEqual({
      paymentRequest: incoming.invoice,
      paid: true,
      preimage: incoming.preimage,
    });
    // A payment the wallet made is none of the page's business: answered exactly like an unknown hash.
    const notFound = {
      code: 'wallet_error',
      message: 'lookupInvoice: this wallet has no invoice with that payment hash',
    };
    for (const paymentHash of ['ab'.repeat(32), outgoing.paymentHash]) {
      expect(
        await handleWeblnLookupInvoice(flow, { pageOrigin: SITE, paymentHash }).catch((e: unknown) => e),
      ).toMatchObject(notFound);
    }
    expect(await codeOf(handleWeblnLookupInvoice(flow, { pageOrigin: SITE }))).toBe('invalid_request');
    expect(await codeOf(handleWeblnLookupInvoice(flow, { pageOrigin: SITE, paymentRequest: 'lnbcrt-nonsense' }))).toBe(
      'invalid_request',
    );
    expect(asked[0]).toEqual({ tabId: 3 });
    const plain = await setup();
    await weblnPermission.enable(plain.storage, SITE, NOW);
    expect(await codeOf(handleWeblnLookupInvoice(plain.flow, { pageOrigin: SITE, paymentHash: 'ab'.repeat(32) }))).toBe(
      'unsupported',
    );
  });

  it('signMessage asks the user every time, showing the message', async () => {
    const { flow, prompts } = await setupFull([{ choice: 'approve-once' }, { choice: 'deny' }]);
    expect(await handleWeblnSignMessage(flow, { pageOrigin: SITE, message: 'login 42' })).toEqual({
      message: 'login 42',
      signature: 'sig:login 42',
    });
    expect(await codeOf(handleWeblnSignMessage(flow, { pageOrigin: SITE, message: 'again' }))).toBe('rejected_by_user');
    expect(prompts.map((p) => [p.kind, p.memo])).toEqual([
      ['webln-enable', 'login 42'],
      ['webln-enable', 'again'],
    ]);
    const plain = await setup();
    await weblnPermission.enable(plain.storage, SITE, NOW);
    expect(await codeOf(handleWeblnSignMessage(plain.flow, { pageOrigin: SITE, message: 'x' }))).toBe('unsupported');
    expect(plain.prompts).toEqual([]);
  });
});
