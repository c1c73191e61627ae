import { describe, expect, it } from 'vitest';
import type { PromptAnswer, PromptRequest } from '../shared/model.ts';
import { AutopilotError } from './errors.ts';
import { getPayment } from './ledger.ts';
import { createPaymentFlow } from './payment-flow.ts';
import { saveSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import { FakeWallet, makeChallenge, NOW, settingsWith } from './test-fixtures.ts';
import { handleWeblnEnable, handleWeblnSendPayment, weblnPermission } from './webln-payments.ts';

const SITE = 'https://shop.example';

async function setup(answers: PromptAnswer[] = []) {
  const storage = memoryStorage();
  await saveSettings(storage, settingsWith({ sites: [{ pattern: SITE, budgetMsat: 50_000, period: 'daily', autoPay: true }] }));
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
    expect(await codeOf(handleWeblnSendPayment(flow, { origin: SITE, paymentRequest: c.invoice }))).toBe('not_enabled');
    expect(await codeOf(handleWeblnEnable(flow, { origin: SITE }))).toBe('rejected_by_user');
    expect(await handleWeblnEnable(flow, { origin: SITE })).toEqual({ enabled: true });
    expect(await handleWeblnEnable(flow, { origin: SITE })).toEqual({ enabled: true });
    expect(prompts.map((p) => p.kind)).toEqual(['webln-enable', 'webln-enable']);
    expect(await weblnPermission.list(storage)).toEqual([{ origin: SITE, enabledAt: NOW }]);
    expect(wallet.paid).toEqual([]);
  });

  it('sendPayment goes through the rules, reserves, verifies and records a webln payment', async () => {
    const { flow, storage, wallet, prompts } = await setup();
    await weblnPermission.enable(storage, SITE, NOW);
    const c = wallet.know(makeChallenge({ sats: 5 }));
    expect(await handleWeblnSendPayment(flow, { origin: SITE, paymentRequest: c.invoice })).toEqual({ preimage: c.preimage });
    expect(await getPayment(storage, c.paymentHash)).toMatchObject({ kind: 'webln', origin: SITE, status: 'succeeded', macaroon: null });
    // Budget 50 sats, 15 reserved per payment (5 + 10 fee floor) → over budget → prompt (denied).
    wallet.feeMsat = 10_000;
    for (let i = 0; i < 3; i++) await handleWeblnSendPayment(flow, { origin: SITE, paymentRequest: wallet.know(makeChallenge({ sats: 5 })).invoice }).catch(() => {});
    expect(wallet.paid).toHaveLength(3);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ kind: 'webln-payment', origin: SITE });
  });

  it('refuses invoices that are expired or for another network', async () => {
    const { flow, storage, wallet } = await setup();
    await weblnPermission.enable(storage, SITE, NOW);
    const expired = makeChallenge({ now: NOW - 7_200_000 });
    expect(await codeOf(handleWeblnSendPayment(flow, { origin: SITE, paymentRequest: expired.invoice }))).toBe('invalid_challenge');
    // The wallet's network is read once per wallet object: a mainnet wallet refuses a regtest invoice.
    const mainnet = await setup();
    mainnet.wallet.network = 'bitcoin';
    await weblnPermission.enable(mainnet.storage, SITE, NOW);
    const fresh = mainnet.wallet.know(makeChallenge());
    expect(await codeOf(handleWeblnSendPayment(mainnet.flow, { origin: SITE, paymentRequest: fresh.invoice }))).toBe('invalid_challenge');
    expect(mainnet.wallet.paid).toEqual([]);
    expect(await codeOf(handleWeblnSendPayment(flow, { origin: SITE, paymentRequest: 'not an invoice' }))).toBe('invalid_challenge');
    expect(wallet.paid).toEqual([]);
    expect(await weblnPermission.revoke(storage, SITE)).toBe(true);
  });
});
