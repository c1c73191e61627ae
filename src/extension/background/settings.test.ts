import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../shared/model.ts';
import { checkNwcUri, loadSettings, SettingsError, saveSettings, upsertSiteRule, validateSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import { settingsWith } from './test-fixtures.ts';

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
    ['too-wide wildcard', settingsWith({ sites: [{ pattern: '*.com', budgetMsat: 1, period: 'daily', autoPay: true }] }), 'rules.sites.0.pattern'],
    [
      'negative budget',
      settingsWith({ sites: [{ pattern: '*.example.com', budgetMsat: -5, period: 'daily', autoPay: true }] }),
      'rules.sites.0.budgetMsat',
    ],
    [
      'bad period',
      settingsWith({ sites: [{ pattern: '*.example.com', budgetMsat: 5, period: 'hourly' as 'daily', autoPay: true }] }),
      'rules.sites.0.period',
    ],
    ['bad NWC URI', { ...base, wallet: { kind: 'nwc', uri: 'https://wallet.example' } }, 'wallet.uri'],
    ['NWC URI without secret', { ...base, wallet: { kind: 'nwc', uri: `nostr+walletconnect://${PK}?relay=wss://r.example` } }, 'wallet.uri'],
    ['bad webln choice', { ...base, webln: 'sometimes' as 'off' }, 'webln'],
  ])('%s → %s', (_n, s, field) => {
    expect(fieldOf(s)).toBe(field);
  });

  it('accepts a NIP-47 URI with several relays', () => {
    const c = checkNwcUri(`nostr+walletconnect://${PK}?relay=wss%3A%2F%2Fa.example&relay=ws://localhost:7000&secret=${SECRET}`);
    expect(c.relayUrls).toEqual(['wss://a.example', 'ws://localhost:7000']);
  });

  it('normalises patterns and never mutates the input', () => {
    const s = settingsWith({ sites: [{ pattern: 'https://API.Example.com', budgetMsat: 1, period: 'daily', autoPay: true }] });
    const copy = structuredClone(s);
    expect(validateSettings(s).rules.sites[0]?.pattern).toBe('https://api.example.com');
    expect(s).toEqual(copy);
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
    expect((await loadSettings(storage)).rules.sites).toEqual([{ pattern: 'https://a.example', budgetMsat: 2, period: 'weekly', autoPay: true }]);
  });
});
