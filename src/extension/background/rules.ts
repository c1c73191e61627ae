// The allowance rules engine: pure functions, no storage, no clock (docs/design.md#rules-semantics).
// The caller computes what was spent (reservations.ts) and whether the invoice is sane (the core's
// validateChallenge), and this decides pay / ask / deny, in the SPEC order, with the reason in words.
import type { Period, Rules, SiteRule } from '../model/model.ts';

/** What the engine decided. `reason` is shown to the user as is. */
export interface Decision {
  action: 'pay' | 'ask' | 'deny';
  reason: string;
  /** What is left of the site's budget before this payment, msat; null = no budget. */
  siteRemainingMsat: number | null;
  dailyRemainingMsat: number | null;
  /** The site rule that applied, if any. */
  rule: SiteRule | null;
  /** amount + max fee: what a payment reserves. */
  reserveMsat: number;
  maxFeeMsat: number;
}

export interface RuleInput {
  rules: Rules;
  /** The service being paid (L402: the origin that answered 402; WebLN: the calling page). Checked against the deny list. */
  serviceOrigin: string;
  /**
   * The page the user is on that caused the payment (a navigation's page is the service itself; WebLN: the calling
   * page). Budgets belong to it: its rule, auto-pay and spent total apply (docs/design.md#rules-semantics), so a page
   * cannot spend a budget the user gave another site by calling that site's service.
   */
  initiator: string;
  /** Invoice amount, msat (null only if sanity failed). */
  amountMsat: number | null;
  /** The invoice sanity result: null = passed, else the core's error code and message. */
  invalid: { code: string; message: string } | null;
  /** Already spent + reserved against the initiator's site rule in its current period, msat. */
  siteSpentMsat: number;
  /** Already spent + reserved over all sites today, msat. */
  dailySpentMsat: number;
}

/** Splits an origin into scheme, host, port; null when it is not an origin. */
function originParts(origin: string): { scheme: string; host: string; port: string } | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  if (u.origin === 'null' || u.origin !== origin.replace(/\/$/, '').toLowerCase()) return null;
  return { scheme: u.protocol, host: u.hostname, port: u.port };
}

/**
 * Does a rule pattern name this origin? A pattern is an exact origin (`https://api.example.com`) or a domain
 * wildcard (`*.example.com`: the domain itself and any subdomain, any scheme/port). Compared label-wise, so
 * `evilexample.com` and `example.com.evil.org` do not match `*.example.com`.
 * @example matchesPattern('*.example.com', 'https://a.example.com') // true
 */
export function matchesPattern(pattern: string, origin: string): boolean {
  const o = originParts(origin);
  if (!o) return false;
  const p = pattern.trim().toLowerCase();
  if (p.startsWith('*.')) {
    const domain = p.slice(2).replace(/\.$/, '');
    if (!isDomain(domain)) return false;
    return o.host === domain || o.host.endsWith(`.${domain}`);
  }
  const po = originParts(p);
  return po !== null && po.scheme === o.scheme && po.host === o.host && po.port === o.port;
}

function isDomain(s: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(s);
}

/**
 * Is `pattern` a valid rule pattern (an http(s) origin or `*.domain` with at least two labels)?
 * @example isValidPattern('*.example.com') // true; isValidPattern('*.com') // false
 */
export function isValidPattern(pattern: string): boolean {
  if (pattern.startsWith('*.')) return isDomain(pattern.slice(2).toLowerCase());
  const o = originParts(pattern);
  return o !== null && (o.scheme === 'https:' || o.scheme === 'http:');
}

/**
 * The site rule for an origin: an exact origin rule wins over wildcards; among wildcards the longest domain wins.
 * @example siteRuleFor(rules.sites, 'https://api.example.com')
 */
export function siteRuleFor(sites: readonly SiteRule[], origin: string): SiteRule | null {
  let best: SiteRule | null = null;
  let bestScore = -1;
  for (const r of sites) {
    if (!matchesPattern(r.pattern, origin)) continue;
    const score = r.pattern.startsWith('*.') ? r.pattern.length : Number.MAX_SAFE_INTEGER;
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The routing fee a payment reserves: max(fee floor, percent of amount), rounded up to whole msat.
 * @example maxFeeFor(1_000_000, { maxFeePercent: 1, feeFloorMsat: 10_000 }) // 10_000
 */
export function maxFeeFor(amountMsat: number, rules: Pick<Rules, 'maxFeePercent' | 'feeFloorMsat'>): number {
  return Math.max(rules.feeFloorMsat, Math.ceil((amountMsat * rules.maxFeePercent) / 100));
}

/** Formats msat as sats for messages: whole sats when exact, else up to 3 decimals. */
export function formatSats(msat: number): string {
  const sats = msat / 1000;
  return Number.isInteger(sats) ? String(sats) : sats.toFixed(3).replace(/0+$/, '');
}

const PERIOD_WORD: Record<Period, string> = { daily: 'daily', weekly: 'weekly', monthly: 'monthly', never: 'lifetime' };

/**
 * Decides a payment in the docs/design.md#rules-semantics order: global off → deny list → invoice sanity → per-payment cap → site
 * budget → global daily cap → auto-pay or ask. "No" from a cap or budget means ASK (the user may approve once);
 * only the switch, the deny list and a bad invoice deny outright. The site is the INITIATOR (the page the user is
 * on): its rule gives the budget and auto-pay; the deny list refuses when either the initiator or the service
 * matches. An initiator with no rule of its own asks, unless `rules.autoPayUnlisted` is on: then it is paid
 * silently when within both caps (which must both be set).
 * @example evaluate({ rules, serviceOrigin, initiator, amountMsat: 100_000, invalid: null, siteSpentMsat: 0, dailySpentMsat: 0 })
 */
export function evaluate(input: RuleInput): Decision {
  const { rules, serviceOrigin, initiator } = input;
  // Budgets belong to the page that caused the payment, never to the service it called.
  const rule = siteRuleFor(rules.sites, initiator);
  const amount = input.amountMsat ?? 0;
  const maxFeeMsat = input.amountMsat === null ? 0 : maxFeeFor(amount, rules);
  const reserveMsat = amount + maxFeeMsat;
  const siteRemainingMsat = rule ? Math.max(0, rule.budgetMsat - input.siteSpentMsat) : null;
  const dailyRemainingMsat =
    rules.dailyCapMsat === null ? null : Math.max(0, rules.dailyCapMsat - input.dailySpentMsat);
  const out = (action: Decision['action'], reason: string): Decision => ({
    action,
    reason,
    siteRemainingMsat,
    dailyRemainingMsat,
    rule,
    reserveMsat,
    maxFeeMsat,
  });

  if (!rules.enabled) return out('deny', 'L402 Autopilot is switched off');
  const denied = rules.deny.find((p) => matchesPattern(p, serviceOrigin) || matchesPattern(p, initiator));
  if (denied !== undefined) return out('deny', `this site is on your deny list (${denied})`);
  if (input.invalid) return out('deny', `the invoice cannot be paid: ${input.invalid.message}`);
  if (input.amountMsat === null || input.amountMsat <= 0) return out('deny', 'the invoice has no amount');
  if (rules.perPaymentCapMsat !== null && reserveMsat > rules.perPaymentCapMsat) {
    return out(
      'ask',
      `over your per-payment cap: ${formatSats(reserveMsat)} of ${formatSats(rules.perPaymentCapMsat)} sats (with max fee)`,
    );
  }
  if (rule && input.siteSpentMsat + reserveMsat > rule.budgetMsat) {
    return out(
      'ask',
      `over this site's ${PERIOD_WORD[rule.period]} budget: ${formatSats(input.siteSpentMsat + reserveMsat)} of ${formatSats(rule.budgetMsat)} sats`,
    );
  }
  if (rules.dailyCapMsat !== null && input.dailySpentMsat + reserveMsat > rules.dailyCapMsat) {
    return out(
      'ask',
      `over your daily cap: ${formatSats(input.dailySpentMsat + reserveMsat)} of ${formatSats(rules.dailyCapMsat)} sats`,
    );
  }
  if (!rule) {
    if (!rules.autoPayUnlisted) return out('ask', 'no rule for this site yet');
    // Settings refuse auto-pay for unlisted sites without both caps; a stored exception still never pays uncapped.
    if (rules.perPaymentCapMsat === null || rules.dailyCapMsat === null) {
      return out(
        'ask',
        'no rule for this site yet, and auto-pay for sites without a rule needs a per-payment cap and a daily cap',
      );
    }
    return out('pay', 'no rule for this site: within your per-payment and daily caps');
  }
  if (!rule.autoPay) return out('ask', 'this site is set to ask every time');
  return out('pay', `within this site's ${PERIOD_WORD[rule.period]} budget`);
}
