// User settings: load with defaults, validate before saving (docs/design.md#decide, #show). The NWC URI is a
// secret: it only ever lives in extension storage (docs/design.md#secure).
import { type NwcConnection, parseNwcUri } from '../../wallet/nwc-uri.ts';
import { DEFAULT_SETTINGS, PERIODS, type Rules, type Settings, type SiteRule } from '../model/model.ts';
import { isValidPattern } from './rules.ts';
import { type KeyValueStorage, withLock } from './storage.ts';
import { errorMessage } from '../../util/error-message.ts';

const KEY = 'settings';
/** Held by every read-modify-write of settings (e.g. "approve and set budget" adding a site rule). */
const SETTINGS_LOCK = 'l402-autopilot:settings';

/** A setting the user entered is not acceptable; `field` names it (dotted path), `message` says why in words. */
export class SettingsError extends Error {
  readonly code = 'invalid_settings';
  readonly field: string;
  /** The message reads "<field>: <why>", so the field survives serialisation as a `WireError`. */
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
    this.field = field;
  }
}

/**
 * Checks an NWC connection URI with the wallet package's parser (one parser for it), as a SettingsError on
 * field `wallet.uri`.
 * @example checkNwcUri('nostr+walletconnect://ab…?relay=wss%3A%2F%2Frelay.example&secret=cd…')
 */
export function checkNwcUri(uri: string): NwcConnection {
  try {
    return parseNwcUri(uri);
  } catch (e) {
    throw new SettingsError('wallet.uri', `not a wallet connection (NWC) URI: ${errorMessage(e)}`);
  }
}

function checkMsat(field: string, v: unknown, nullable: boolean): void {
  if (v === null && nullable) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new SettingsError(field, `${field} must be a whole, non-negative number of millisatoshis`);
  }
}

function checkRules(r: Rules): void {
  if (typeof r.enabled !== 'boolean')
    throw new SettingsError('rules.enabled', 'the on/off switch must be true or false');
  checkMsat('rules.perPaymentCapMsat', r.perPaymentCapMsat, true);
  checkMsat('rules.dailyCapMsat', r.dailyCapMsat, true);
  checkMsat('rules.feeFloorMsat', r.feeFloorMsat, false);
  if (
    typeof r.maxFeePercent !== 'number' ||
    !Number.isFinite(r.maxFeePercent) ||
    r.maxFeePercent < 0 ||
    r.maxFeePercent > 100
  ) {
    throw new SettingsError('rules.maxFeePercent', 'the max fee must be between 0 and 100 %');
  }
  // Missing (settings stored or sent before the field existed) means false: ask.
  const autoPayUnlisted: unknown = r.autoPayUnlisted ?? false;
  if (typeof autoPayUnlisted !== 'boolean') {
    throw new SettingsError('rules.autoPayUnlisted', 'auto-pay for sites without a rule must be on or off');
  }
  // Silent payments to sites the user never named must stay bounded: both caps, or no auto-pay for them.
  if (autoPayUnlisted && (r.perPaymentCapMsat === null || r.dailyCapMsat === null)) {
    const missing =
      r.perPaymentCapMsat === null && r.dailyCapMsat === null
        ? 'a per-payment cap and a daily cap'
        : r.perPaymentCapMsat === null
          ? 'a per-payment cap'
          : 'a daily cap';
    throw new SettingsError(
      'rules.autoPayUnlisted',
      `auto-paying sites without a rule needs both a per-payment cap and a daily cap: set ${missing}, or switch auto-pay for sites without a rule off`,
    );
  }
  if (!Array.isArray(r.deny)) throw new SettingsError('rules.deny', 'the deny list must be a list');
  r.deny.forEach((p, i) => {
    if (typeof p !== 'string' || !isValidPattern(p)) {
      throw new SettingsError(
        `rules.deny.${i}`,
        `${JSON.stringify(p)} is neither an origin (https://host) nor *.domain`,
      );
    }
  });
  if (!Array.isArray(r.sites)) throw new SettingsError('rules.sites', 'the site rules must be a list');
  const seen = new Set<string>();
  r.sites.forEach((s: SiteRule, i) => {
    const f = `rules.sites.${i}`;
    if (typeof s.pattern !== 'string' || !isValidPattern(s.pattern)) {
      throw new SettingsError(
        `${f}.pattern`,
        `${JSON.stringify(s.pattern)} is neither an origin (https://host) nor *.domain`,
      );
    }
    if (seen.has(s.pattern)) throw new SettingsError(`${f}.pattern`, `${s.pattern} has two rules`);
    seen.add(s.pattern);
    checkMsat(`${f}.budgetMsat`, s.budgetMsat, false);
    if (!PERIODS.includes(s.period)) {
      throw new SettingsError(`${f}.period`, 'the period must be daily, weekly, monthly or never');
    }
    if (typeof s.autoPay !== 'boolean') throw new SettingsError(`${f}.autoPay`, 'auto-pay must be true or false');
  });
}

/**
 * Throws SettingsError unless the settings are acceptable; returns a normalised copy (patterns lower-cased).
 * @example validateSettings({ ...DEFAULT_SETTINGS, rules: { ...DEFAULT_RULES, dailyCapMsat: -1 } }) // throws
 */
export function validateSettings(s: Settings): Settings {
  if (!s || typeof s !== 'object') throw new SettingsError('settings', 'settings must be an object');
  const w = s.wallet;
  if (!w || !['nwc', 'webln', 'none'].includes(w.kind))
    throw new SettingsError('wallet.kind', 'choose NWC, WebLN or none');
  if (w.kind === 'nwc') checkNwcUri(w.uri);
  if (!['off', 'when-absent', 'always'].includes(s.webln)) {
    throw new SettingsError('webln', 'WebLN injection must be off, when-absent or always');
  }
  if (typeof s.onboarded !== 'boolean') throw new SettingsError('onboarded', 'onboarded must be true or false');
  if (!s.rules || typeof s.rules !== 'object') throw new SettingsError('rules', 'rules are missing');
  checkRules(s.rules);
  const norm = (p: string) => (p.startsWith('*.') ? p.toLowerCase() : new URL(p).origin);
  return {
    ...structuredClone(s),
    wallet: w.kind === 'nwc' ? { kind: 'nwc', uri: w.uri.trim() } : { kind: w.kind },
    rules: {
      ...structuredClone(s.rules),
      autoPayUnlisted: s.rules.autoPayUnlisted ?? false,
      deny: s.rules.deny.map(norm),
      sites: s.rules.sites.map((r) => ({ ...r, pattern: norm(r.pattern) })),
    },
  };
}

/**
 * Stored settings merged over the defaults, so a field added later gets its default (settings saved before
 * `rules.autoPayUnlisted` existed load with it false: unlisted sites keep asking).
 */
export async function loadSettings(storage: KeyValueStorage): Promise<Settings> {
  const s = await storage.get<Partial<Settings>>(KEY);
  return {
    ...structuredClone(DEFAULT_SETTINGS),
    ...s,
    rules: { ...structuredClone(DEFAULT_SETTINGS.rules), ...s?.rules },
  };
}

/** Validates and saves; returns what was saved. */
export async function saveSettings(storage: KeyValueStorage, s: Settings): Promise<Settings> {
  const valid = validateSettings(s);
  await withLock(SETTINGS_LOCK, () => storage.set(KEY, valid));
  return valid;
}

/** Read-modify-write of settings under the settings lock; the result is validated. */
export function updateSettings(storage: KeyValueStorage, change: (s: Settings) => Settings): Promise<Settings> {
  return withLock(SETTINGS_LOCK, async () => {
    const next = validateSettings(change(await loadSettings(storage)));
    await storage.set(KEY, next);
    return next;
  });
}

/** Adds or replaces the site rule for exactly `pattern`. */
export function upsertSiteRule(storage: KeyValueStorage, rule: SiteRule): Promise<Settings> {
  return updateSettings(storage, (s) => ({
    ...s,
    rules: { ...s.rules, sites: [...s.rules.sites.filter((r) => r.pattern !== rule.pattern), rule] },
  }));
}
