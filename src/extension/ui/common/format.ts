// Formatting shared by every page. Amounts are msat internally and sats on screen (docs/design.md#rules-semantics).
import type { ChallengeScheme, Period } from '../../model/model.ts';
import { getDomain } from 'tldts';

const satsFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** "12,345" for 12_345_000 msat; keeps up to 3 decimals so sub-sat fees are not shown as 0. */
export function sats(msat: number): string {
  return satsFmt.format(msat / 1000);
}

/**
 * Parses what a user typed into a sats field. Accepts thousands separators and spaces; refuses negatives,
 * fractions and non-numbers with a sentence the form can show as is.
 */
export function parseSats(text: string): { ok: true; msat: number } | { ok: false; message: string } {
  const cleaned = text.replace(/[\s,_']/g, '');
  if (cleaned === '') return { ok: false, message: 'Enter an amount in sats.' };
  if (!/^\d+$/.test(cleaned)) return { ok: false, message: 'Use a whole number of sats, 0 or more (no decimals).' };
  const value = Number(cleaned);
  if (!Number.isSafeInteger(value * 1000)) return { ok: false, message: 'That amount is too large.' };
  return { ok: true, msat: value * 1000 };
}

/** The sats value to prefill a field with (no separators, so editing is easy). */
export function satsInput(msat: number | null): string {
  return msat === null ? '' : String(Math.floor(msat / 1000));
}

export const PERIOD_LABEL: Record<Period, string> = {
  daily: 'per day',
  weekly: 'per week',
  monthly: 'per month',
  never: 'in total',
};

export const PERIOD_NOUN: Record<Period, string> = {
  daily: 'today',
  weekly: 'this week',
  monthly: 'this month',
  never: 'so far',
};

/** "14:03" today, "Mon 14:03" this week, else "12 Nov 14:03". */
export function shortTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return time;
  if (Math.abs(now - ms) < 6 * 86_400_000) return `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
  return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "in 3 h 20 min", "in 2 days", "5 min ago". */
export function relative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  const abs = Math.abs(diff);
  const min = Math.round(abs / 60_000);
  let text: string;
  if (min < 1) text = 'less than a minute';
  else if (min < 60) text = `${min} min`;
  else if (min < 48 * 60) {
    const h = Math.floor(min / 60);
    const m = min % 60;
    text = m && h < 10 ? `${h} h ${m} min` : `${h} h`;
  } else text = `${Math.round(min / 1440)} days`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** Host without the scheme, for compact display ("api.example.com:8080"). */
/**
 * The registrable domain (eTLD+1, from the Public Suffix List via tldts, private suffixes included so that
 * `alice.github.io` is not shown as `github.io`) of an origin; the bare host for an IP address or `localhost`.
 * @example registrableDomain('https://uploads.shop.example.co.uk:8443') // 'example.co.uk'
 */
export function registrableDomain(origin: string): string {
  const host = hostnameOf(origin);
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/**
 * How a prompt names a site: the registrable domain plainly, plus the full host when it says more (a subdomain).
 * Without a subdomain the one name is the host itself, port included.
 * @example siteNames('https://uploads.example.com') // { domain: 'example.com', host: 'uploads.example.com' }
 * @example siteNames('http://127.0.0.1:8402') // { domain: '127.0.0.1:8402', host: null }
 */
export function siteNames(origin: string): { domain: string; host: string | null } {
  const domain = registrableDomain(origin);
  return domain === hostnameOf(origin) ? { domain: hostOf(origin), host: null } : { domain, host: hostOf(origin) };
}

function hostnameOf(origin: string): string {
  try {
    return new URL(origin).hostname || origin;
  } catch {
    return origin;
  }
}

export function hostOf(origin: string): string {
  try {
    return new URL(origin).host || origin;
  } catch {
    return origin;
  }
}

/** Local calendar day key "2026-11-25" (budgets use local periods, so the chart does too). */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

const SHORT_SCHEME: Readonly<Record<Exclude<ChallengeScheme, 'other'>, string>> = {
  l402: 'L402',
  payment: 'Payment',
  x402: 'x402',
};

/**
 * The payable schemes a tab's 402s offered, short, for the popup's pill; '' when none.
 * @example schemeList({ l402: 2, payment: 1 }) // 'L402 + Payment'
 */
export function schemeList(bySchemes: Readonly<Partial<Record<ChallengeScheme, number>>>): string {
  return (Object.keys(SHORT_SCHEME) as (keyof typeof SHORT_SCHEME)[])
    .filter((s) => (bySchemes[s] ?? 0) > 0)
    .map((s) => SHORT_SCHEME[s])
    .join(' + ');
}
