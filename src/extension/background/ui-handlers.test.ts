import { describe, expect, it } from 'vitest';
import { WalletError } from '../../wallet/wallet.ts';
import { createAutopilot } from './autopilot.ts';
import { createPromptStore } from './prompts.ts';
import { loadSettings, saveSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import { FakeWallet, makeChallenge, NOW, settingsWith } from '../../../test/support/background-fixtures.ts';
import { createUiHandlers } from './ui-handlers.ts';

const SERVICE = 'https://api.example.com';
const PAGE = 'https://app.example.org';
const ctx = {};

async function setup() {
  const storage = memoryStorage();
  await saveSettings(
    storage,
    settingsWith({ sites: [{ pattern: '*.example.org', budgetMsat: 100_000, period: 'weekly', autoPay: true }] }),
  );
  const wallet = new FakeWallet();
  const prompts = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
  const ui = createUiHandlers({
    storage,
    clock: () => NOW,
    prompts,
    wallet: async () => wallet,
    connectNwc: () => wallet,
    challengesSeen: async () => ({ total: 3, bySchemes: { l402: 2, payment: 1 } }),
  });
  const autopilot = createAutopilot({
    storage,
    clock: () => NOW,
    wallet: async () => wallet,
    prompt: async () => ({ choice: 'deny' }),
  });
  return { storage, wallet, prompts, ui, autopilot };
}

describe('UiApi handlers', () => {
  it('settings round-trip and invalid settings are refused naming the field', async () => {
    const { ui } = await setup();
    const s = await ui.getSettings({}, ctx);
    const saved = await ui.saveSettings({ ...s, rules: { ...s.rules, dailyCapMsat: 7_000 } }, ctx);
    expect(saved.rules.dailyCapMsat).toBe(7_000);
    await expect(ui.saveSettings({ ...s, rules: { ...s.rules, dailyCapMsat: -1 } }, ctx)).rejects.toMatchObject({
      code: 'invalid_settings',
      field: 'rules.dailyCapMsat',
    });
  });

  it('overview, site summary, payments, tokens after a payment', async () => {
    const { ui, autopilot, wallet } = await setup();
    const c = wallet.know(makeChallenge({ sats: 10 }));
    await autopilot.handleChallenge({
      serviceUrl: `${SERVICE}/x`,
      initiator: PAGE,
      wwwAuthenticate: c.header,
      source: 'fetch',
      confirmedByBrowser: true,
    });
    expect(await ui.getOverview({}, ctx)).toEqual({ spentTodayMsat: 11_000, dailyCapMsat: 1_000_000 });
    // The site the user is on (the page that caused the payment) is the one that spent it, from its own budget.
    const summary = await ui.getSiteSummary({ origin: PAGE, tabId: 4 }, ctx);
    expect(summary).toMatchObject({
      origin: PAGE,
      spentMsat: 11_000,
      tokens: 1,
      challengesSeen: 3,
      challengesBySchemes: { l402: 2, payment: 1 },
      rule: { pattern: '*.example.org' },
    });
    expect(summary.renewsAt).toBe(new Date(2026, 10, 30).getTime()); // next Monday, local midnight
    // The service it called has no budget and spent nothing of its own; it holds its token.
    expect(await ui.getSiteSummary({ origin: SERVICE }, ctx)).toMatchObject({
      origin: SERVICE,
      rule: null,
      spentMsat: 0,
      tokens: 1,
    });
    expect(await ui.getSiteSummary({ origin: 'https://other.example' }, ctx)).toMatchObject({
      rule: null,
      spentMsat: 0,
      tokens: 0,
    });
    expect((await ui.listPayments({ origin: SERVICE }, ctx)).map((p) => p.paymentHash)).toEqual([c.paymentHash]);
    const tokens = await ui.listTokens({}, ctx);
    expect(tokens.map((t) => t.paymentHash)).toEqual([c.paymentHash]);
    expect(await ui.revokeToken({ paymentHash: c.paymentHash }, ctx)).toEqual({ revoked: true });
    expect(await ui.listTokens({}, ctx)).toEqual([]);
  });

  it('setSiteAutoPay makes an exact rule from the wildcard one, or a default rule', async () => {
    const { ui, storage } = await setup();
    const s = await ui.setSiteAutoPay({ origin: PAGE, autoPay: false }, ctx);
    expect(s.rule).toEqual({ pattern: PAGE, budgetMsat: 100_000, period: 'weekly', autoPay: false });
    await ui.setSiteAutoPay({ origin: 'https://new.site', autoPay: true }, ctx);
    expect((await loadSettings(storage)).rules.sites.map((r) => r.pattern)).toEqual([
      '*.example.org',
      PAGE,
      'https://new.site',
    ]);
  });

  it('wallet status and test connection', async () => {
    const { ui, wallet } = await setup();
    expect(await ui.getWalletStatus({}, ctx)).toMatchObject({
      kind: 'nwc',
      connected: true,
      alias: 'fake',
      balanceMsat: 5_000_000,
    });
    await expect(ui.testWallet({ uri: 'nonsense' }, ctx)).rejects.toMatchObject({
      code: 'invalid_settings',
      field: 'wallet.uri',
    });
    wallet.getBalance = async () => Promise.reject(new WalletError('unreachable', 'relay down'));
    const uri = settingsWith().wallet.kind === 'nwc' ? (settingsWith().wallet as { uri: string }).uri : '';
    expect(await ui.testWallet({ uri }, ctx)).toMatchObject({ connected: false, error: 'relay down' });
  });

  it('prompts: get and answer', async () => {
    const { ui, prompts } = await setup();
    await prompts.create({
      id: 'q',
      kind: 'l402',
      origin: SERVICE,
      initiator: PAGE,
      url: `${SERVICE}/x`,
      amountMsat: 1,
      maxFeeMsat: 1,
      memo: null,
      reason: 'r',
      siteRemainingMsat: null,
      dailyRemainingMsat: null,
      expiresAt: NOW + 1000,
    });
    expect((await ui.getPrompt({ id: 'q' }, ctx))?.id).toBe('q');
    expect(await ui.answerPrompt({ id: 'q', answer: { choice: 'deny' } }, ctx)).toEqual({ accepted: true });
    expect(await ui.answerPrompt({ id: 'nope', answer: { choice: 'deny' } }, ctx)).toEqual({ accepted: false });
  });
});
