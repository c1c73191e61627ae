import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Rules, type Settings } from '../model/model.ts';
import {
  checkNwcUri,
  loadSettings,
  SettingsError,
  saveSettings,
  upsertSiteRule,
  validateSettings,
} from './settings.ts';
import { memoryStorage } from './storage.ts';
import { settingsWith } from '../../../test/support/background-fixtures.ts';

const PK = 'ab'.repeat(32);
const SECRET = 'cd'.repeat(32);

function fieldOf(s: Settings): string {
  try {
    validateSettings(s);
    return 'valid';
  } catch (e) {
    if (e instanceof SettingsError) {
      expect(e.code).toBe('invalid_settings');
      expect(e.message.startsWith(`${e.field}: `)).toBe(true);
      return e.field;
    }
    throw e;
  }
}

describe('settings validation', () => {
  const base = settingsWith();
  it.each<[string, Settings, string]>([
    ['defaults', DEFAULT_SETTINGS, 'valid'],
    ['nwc wallet', base, 'valid'],
    ['negative per-payment cap', settingsWith({ perPaymentCapMsat: -1 }), 'rules.perPaymentCapMsat'],
    ['fractional daily cap', settingsWith({ dailyCapMsat: 1.5 }), 'rules.dailyCapMsat'],
    ['fee percent over 100', settingsWith({ maxFeePercent: 101 }), 'rules.maxFeePercent'],
    ['bad deny pattern', settingsWith({ deny: ['example.com'] }), 'rules.deny.0'],
    [
      'too-wide wildcard',
      settingsWith({ sites: [{ pattern: '*.com', budgetMsat: 1, period: 'daily', autoPay: true }] }),
      'rules.sites.0.pattern',
    ],
    [
      'negative budget',
      settingsWith({ sites: [{ pattern: '*.example.com', budgetMsat: -5, period: 'daily', autoPay: true }] }),
      'rules.sites.0.budgetMsat',
    ],
    [
      'bad period',
      settingsWith({
        sites: [{ pattern: '*.example.com', budgetMsat: 5, period: 'hourly' as 'daily', autoPay: true }],
      }),
      'rules.sites.0.period',
    ],
    ['bad NWC URI', { ...base, wallet: { kind: 'nwc', uri: 'https://wallet.example' } }, 'wallet.uri'],
    [
      'NWC URI without secret',
      { ...base, wallet: { kind: 'nwc', uri: `nostr+walletconnect://${PK}?relay=wss://r.example` } },
      'wallet.uri',
    ],
    ['bad webln choice', { ...base, webln: 'sometimes' as 'off' }, 'webln'],
    ['auto-pay for unlisted sites with both caps', settingsWith({ autoPayUnlisted: true }), 'valid'],
    [
      'auto-pay for unlisted sites without a per-payment cap',
      settingsWith({ autoPayUnlisted: true, perPaymentCapMsat: null }),
      'rules.autoPayUnlisted',
    ],
    [
      'auto-pay for unlisted sites without a daily cap',
      settingsWith({ autoPayUnlisted: true, dailyCapMsat: null }),
      'rules.autoPayUnlisted',
    ],
    [
      'no caps and no auto-pay for unlisted sites',
      settingsWith({ perPaymentCapMsat: null, dailyCapMsat: null }),
      'valid',
    ],
    [
      'auto-pay for unlisted sites not a boolean',
      settingsWith({ autoPayUnlisted: 'yes' as unknown as boolean }),
      'rules.autoPayUnlisted',
    ],
  ])('%s → %s', (_n, s, field) => {
    expect(fieldOf(s)).toBe(field);
  });

  it('accepts a NIP-47 URI with several relays', () => {
    const c = checkNwcUri(
      `nostr+walletconnect://${PK}?relay=wss%3A%2F%2Fa.example&relay=ws://localhost:7000&secret=${SECRET}`,
    );
    expect(c.relayUrls).toEqual(['wss://a.example', 'ws://localhost:7000']);
  });

  it('normalises patterns and never mutates the input', () => {
    const s = settingsWith({
      sites: [{ pattern: 'https://API.Example.com', budgetMsat: 1, period: 'daily', autoPay: true }],
    });
    const copy = structuredClone(s);
    expect(validateSettings(s).rules.sites[0]?.pattern).toBe('https://api.example.com');
    expect(s).toEqual(copy);
  });
});

describe('auto-pay for sites without a rule', () => {
  it('is refused without both caps, saying what to set', () => {
    expect(() => validateSettings(settingsWith({ autoPayUnlisted: true, dailyCapMsat: null }))).toThrow(
      'auto-paying sites without a rule needs both a per-payment cap and a daily cap: set a daily cap, or switch auto-pay for sites without a rule off',
    );
    expect(() =>
      validateSettings(settingsWith({ autoPayUnlisted: true, perPaymentCapMsat: null, dailyCapMsat: null })),
    ).toThrow('set a per-payment cap and a daily cap');
  });

  it('a missing field (settings from before it existed) validates as false', () => {
    const old = settingsWith();
    const { autoPayUnlisted: _dropped, ...rules } = old.rules;
    expect(validateSettings({ ...old, rules: rules as Rules }).rules.autoPayUnlisted).toBe(false);
  });

  it('stored settings without the field load with it false; a saved true round-trips', async () => {
    const storage = memoryStorage();
    const { autoPayUnlisted: _dropped, ...oldRules } = settingsWith({ dailyCapMsat: 7_000 }).rules;
    await storage.set('settings', { ...settingsWith(), rules: oldRules });
    const loaded = await loadSettings(storage);
    expect(loaded.rules).toMatchObject({ autoPayUnlisted: false, dailyCapMsat: 7_000 });
    await saveSettings(storage, { ...loaded, rules: { ...loaded.rules, autoPayUnlisted: true } });
    expect((await loadSettings(storage)).rules.autoPayUnlisted).toBe(true);
    await expect(
      saveSettings(storage, { ...loaded, rules: { ...loaded.rules, autoPayUnlisted: true, perPaymentCapMsat: null } }),
    ).rejects.toThrow('needs both a per-payment cap and a daily cap');
    expect((await loadSettings(storage)).rules.perPaymentCapMsat).not.toBeNull();
  });
});

describe('settings storage', () => {
  it('loads defaults, saves valid settings, refuses invalid ones', async () => {
    const storage = memoryStorage();
    expect(await loadSettings(storage)).toEqual(DEFAULT_SETTINGS);
    await saveSettings(storage, settingsWith({ dailyCapMsat: 5 }));
    expect((await loadSettings(storage)).rules.dailyCapMsat).toBe(5);
    await expect(saveSettings(storage, settingsWith({ dailyCapMsat: -5 }))).rejects.toBeInstanceOf(SettingsError);
    expect((await loadSettings(storage)).rules.dailyCapMsat).toBe(5);
  });

  it('upserts a site rule by pattern', async () => {
    const storage = memoryStorage();
    await upsertSiteRule(storage, { pattern: 'https://a.example', budgetMsat: 1, period: 'daily', autoPay: false });
    await upsertSiteRule(storage, { pattern: 'https://a.example', budgetMsat: 2, period: 'weekly', autoPay: true });
    expect((await loadSettings(storage)).rules.sites).toEqual([
      { pattern: 'https://a.example', budgetMsat: 2, period: 'weekly', autoPay: true },
    ]);
  });
});
