import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../model/model.ts';
import {
  evaluate,
  formatSats,
  isValidPattern,
  matchesPattern,
  maxFeeFor,
  type RuleInput,
  siteRuleFor,
} from './rules.ts';

// The site the user is on (the initiator): budgets are its own. The service it calls is elsewhere.
const SITE = 'https://app.example.com';
const SERVICE = 'https://api.example.org';
const rules = (r: Partial<Rules> = {}): Rules => ({ ...DEFAULT_RULES, ...r });
const input = (o: Partial<RuleInput> = {}): RuleInput => ({
  rules: rules({ sites: [{ pattern: SITE, budgetMsat: 100_000, period: 'daily', autoPay: true }] }),
  serviceOrigin: SERVICE,
  initiator: SITE,
  amountMsat: 20_000,
  invalid: null,
  siteSpentMsat: 0,
  dailySpentMsat: 0,
  ...o,
});

describe('matchesPattern', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com', true],
    ['https://api.example.com', 'http://api.example.com', false],
    ['https://api.example.com', 'https://api.example.com:8443', false],
    ['http://localhost:8080', 'http://localhost:8080', true],
    ['*.example.com', 'https://example.com', true],
    ['*.example.com', 'https://a.b.example.com', true],
    ['*.example.com', 'http://api.example.com:3000', true],
    ['*.example.com', 'https://evilexample.com', false],
    ['*.example.com', 'https://example.com.evil.org', false],
    ['*.Example.COM', 'https://api.example.com', true],
    ['*.com', 'https://example.com', false],
    ['example.com', 'https://example.com', false],
    ['*.example.com', 'not an origin', false],
    ['*.example.com', 'https://api.example.com/path', false],
  ])('%s vs %s → %s', (pattern, origin, expected) => {
    expect(matchesPattern(pattern, origin)).toBe(expected);
  });

  it('validates patterns', () => {
    expect(isValidPattern('*.example.com')).toBe(true);
    expect(isValidPattern('https://api.example.com')).toBe(true);
    expect(isValidPattern('*.com')).toBe(false);
    expect(isValidPattern('ftp://example.com')).toBe(false);
    expect(isValidPattern('https://example.com/path')).toBe(false);
    expect(isValidPattern('example.com')).toBe(false);
  });

  it('an exact rule wins over a wildcard, the longest wildcard over a shorter one', () => {
    const exact = { pattern: SITE, budgetMsat: 1, period: 'daily', autoPay: true } as const;
    const wide = { pattern: '*.example.com', budgetMsat: 2, period: 'daily', autoPay: true } as const;
    const narrow = { pattern: '*.api.example.com', budgetMsat: 3, period: 'daily', autoPay: true } as const;
    expect(siteRuleFor([wide, exact], SITE)).toBe(exact);
    expect(siteRuleFor([wide, narrow], 'https://v1.api.example.com')).toBe(narrow);
    expect(siteRuleFor([wide], 'https://other.org')).toBeNull();
  });
});

describe('fees and formatting', () => {
  it('reserves max(floor, percent) as fee', () => {
    expect(maxFeeFor(100_000, { maxFeePercent: 1, feeFloorMsat: 10_000 })).toBe(10_000);
    expect(maxFeeFor(5_000_000, { maxFeePercent: 1, feeFloorMsat: 10_000 })).toBe(50_000);
    expect(maxFeeFor(101, { maxFeePercent: 1, feeFloorMsat: 0 })).toBe(2);
  });
  it('formats sats', () => {
    expect(formatSats(120_000)).toBe('120');
    expect(formatSats(1_500)).toBe('1.5');
    expect(formatSats(1)).toBe('0.001');
  });
});

describe('evaluate, in the SPEC order', () => {
  it.each<[string, Partial<RuleInput>, 'pay' | 'ask' | 'deny', string]>([
    ['inside an auto-pay budget', {}, 'pay', "within this site's daily budget"],
    ['global switch off beats everything', { rules: rules({ enabled: false }) }, 'deny', 'switched off'],
    [
      'deny list by wildcard beats a budget',
      {
        rules: rules({
          deny: ['*.example.com'],
          sites: [{ pattern: SITE, budgetMsat: 1e9, period: 'daily', autoPay: true }],
        }),
      },
      'deny',
      'deny list (*.example.com)',
    ],
    [
      'deny list matches the service too, whatever page calls it',
      { rules: rules({ deny: [SERVICE] }) },
      'deny',
      `deny list (${SERVICE})`,
    ],
    [
      'deny list on the service beats the page’s auto-pay budget and auto-pay for unlisted sites',
      {
        rules: rules({
          autoPayUnlisted: true,
          deny: ['*.example.org'],
          sites: [{ pattern: SITE, budgetMsat: 1e9, period: 'daily', autoPay: true }],
        }),
      },
      'deny',
      'deny list (*.example.org)',
    ],
    [
      'a rule for the SERVICE does not cover a page that calls it → ask',
      { rules: rules({ sites: [{ pattern: SERVICE, budgetMsat: 1e9, period: 'daily', autoPay: true }] }) },
      'ask',
      'no rule for this site yet',
    ],
    [
      "a wildcard rule for the service's domain does not cover another page either",
      { rules: rules({ sites: [{ pattern: '*.example.org', budgetMsat: 1e9, period: 'daily', autoPay: true }] }) },
      'ask',
      'no rule for this site yet',
    ],
    [
      'the page’s rule covers any service it calls',
      {
        serviceOrigin: 'https://elsewhere.example.net',
        rules: rules({ sites: [{ pattern: '*.example.com', budgetMsat: 100_000, period: 'daily', autoPay: true }] }),
      },
      'pay',
      "within this site's daily budget",
    ],
    [
      'a top-level navigation: the page is the service, its own rule applies',
      {
        serviceOrigin: SERVICE,
        initiator: SERVICE,
        rules: rules({ sites: [{ pattern: SERVICE, budgetMsat: 100_000, period: 'daily', autoPay: true }] }),
      },
      'pay',
      "within this site's daily budget",
    ],
    [
      'a bad invoice is denied before caps',
      { invalid: { code: 'hash_mismatch', message: 'hash differs' }, amountMsat: 1e12 },
      'deny',
      'the invoice cannot be paid: hash differs',
    ],
    ['zero amount is denied', { amountMsat: null }, 'deny', 'no amount'],
    [
      'over the per-payment cap (fees count) → ask',
      { amountMsat: 95_000 },
      'ask',
      'over your per-payment cap: 105 of 100 sats (with max fee)',
    ],
    [
      'over the site budget → ask, in words',
      { siteSpentMsat: 90_000 },
      'ask',
      "over this site's daily budget: 120 of 100 sats",
    ],
    ['exactly at the budget is allowed', { siteSpentMsat: 70_000 }, 'pay', 'within'],
    ['over the daily cap → ask', { dailySpentMsat: 990_000 }, 'ask', 'over your daily cap: 1020 of 1000 sats'],
    ['no rule for the site → ask', { rules: rules() }, 'ask', 'no rule for this site yet'],
    [
      'no rule, auto-pay for unlisted sites, within both caps → pay',
      { rules: rules({ autoPayUnlisted: true }) },
      'pay',
      'no rule for this site: within your per-payment and daily caps',
    ],
    [
      'no rule, auto-pay for unlisted sites, exactly at the daily cap → pay',
      { rules: rules({ autoPayUnlisted: true }), dailySpentMsat: 970_000 },
      'pay',
      'within your per-payment and daily caps',
    ],
    [
      'no rule, auto-pay for unlisted sites, over the per-payment cap → ask',
      { rules: rules({ autoPayUnlisted: true }), amountMsat: 95_000 },
      'ask',
      'over your per-payment cap: 105 of 100 sats (with max fee)',
    ],
    [
      'no rule, auto-pay for unlisted sites, over the daily cap → ask',
      { rules: rules({ autoPayUnlisted: true }), dailySpentMsat: 990_000 },
      'ask',
      'over your daily cap: 1020 of 1000 sats',
    ],
    [
      'no rule, auto-pay for unlisted sites but no per-payment cap → ask (never uncapped)',
      { rules: rules({ autoPayUnlisted: true, perPaymentCapMsat: null }) },
      'ask',
      'needs a per-payment cap and a daily cap',
    ],
    [
      'no rule, auto-pay for unlisted sites but no daily cap → ask (never uncapped)',
      { rules: rules({ autoPayUnlisted: true, dailyCapMsat: null }) },
      'ask',
      'needs a per-payment cap and a daily cap',
    ],
    [
      'auto-pay for unlisted sites: the deny list still wins',
      { rules: rules({ autoPayUnlisted: true, deny: ['*.example.com'] }) },
      'deny',
      'deny list (*.example.com)',
    ],
    [
      'auto-pay for unlisted sites: the global switch still wins',
      { rules: rules({ autoPayUnlisted: true, enabled: false }) },
      'deny',
      'switched off',
    ],
    [
      'auto-pay for unlisted sites: a bad invoice is still denied',
      { rules: rules({ autoPayUnlisted: true }), invalid: { code: 'invoice_expired', message: 'expired' } },
      'deny',
      'the invoice cannot be paid: expired',
    ],
    [
      "auto-pay for unlisted sites does not override a site's own ask-every-time rule",
      {
        rules: rules({
          autoPayUnlisted: true,
          sites: [{ pattern: '*.example.com', budgetMsat: 1e9, period: 'daily', autoPay: false }],
        }),
      },
      'ask',
      'ask every time',
    ],
    [
      "auto-pay for unlisted sites does not lift a site's own budget",
      {
        rules: rules({
          autoPayUnlisted: true,
          sites: [{ pattern: SITE, budgetMsat: 100_000, period: 'daily', autoPay: true }],
        }),
        siteSpentMsat: 90_000,
      },
      'ask',
      "over this site's daily budget: 120 of 100 sats",
    ],
    [
      'a rule without auto-pay → ask',
      { rules: rules({ sites: [{ pattern: SITE, budgetMsat: 1e9, period: 'weekly', autoPay: false }] }) },
      'ask',
      'ask every time',
    ],
    [
      'lifetime budgets say so',
      { rules: rules({ sites: [{ pattern: '*.example.com', budgetMsat: 25_000, period: 'never', autoPay: true }] }) },
      'ask',
      "over this site's lifetime budget: 30 of 25 sats",
    ],
  ])('%s', (_name, o, action, reason) => {
    const d = evaluate(input(o));
    expect(d.action).toBe(action);
    expect(d.reason).toContain(reason);
  });

  it('reports what is left and what it reserves', () => {
    const d = evaluate(input({ siteSpentMsat: 30_000, dailySpentMsat: 400_000 }));
    expect(d).toMatchObject({
      siteRemainingMsat: 70_000,
      dailyRemainingMsat: 600_000,
      reserveMsat: 30_000,
      maxFeeMsat: 10_000,
    });
    expect(evaluate(input({ rules: rules({ dailyCapMsat: null }) })).dailyRemainingMsat).toBeNull();
    const unlisted = evaluate(input({ rules: rules({ autoPayUnlisted: true }), dailySpentMsat: 400_000 }));
    expect(unlisted).toMatchObject({
      action: 'pay',
      rule: null,
      siteRemainingMsat: null,
      dailyRemainingMsat: 600_000,
      reserveMsat: 30_000,
    });
  });

  it('does not mutate its input', () => {
    const i = input();
    const copy = structuredClone(i);
    evaluate(i);
    expect(i).toEqual(copy);
  });
});
