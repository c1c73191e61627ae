import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../shared/model.ts';
import { evaluate, formatSats, isValidPattern, matchesPattern, maxFeeFor, type RuleInput, ruleFor } from './rules.ts';

const SITE = 'https://api.example.com';
const rules = (r: Partial<Rules> = {}): Rules => ({ ...DEFAULT_RULES, ...r });
const input = (o: Partial<RuleInput> = {}): RuleInput => ({
  rules: rules({ sites: [{ pattern: SITE, budgetMsat: 100_000, period: 'daily', autoPay: true }] }),
  origin: SITE,
  initiator: 'https://app.example.org',
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
    expect(ruleFor([wide, exact], SITE)).toBe(exact);
    expect(ruleFor([wide, narrow], 'https://v1.api.example.com')).toBe(narrow);
    expect(ruleFor([wide], 'https://other.org')).toBeNull();
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
      { rules: rules({ deny: ['*.example.com'], sites: [{ pattern: SITE, budgetMsat: 1e9, period: 'daily', autoPay: true }] }) },
      'deny',
      'deny list (*.example.com)',
    ],
    ['deny list matches the initiating page too', { rules: rules({ deny: ['https://app.example.org'] }) }, 'deny', 'deny list'],
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
    [
      'exactly at the budget is allowed',
      { siteSpentMsat: 70_000 },
      'pay',
      'within',
    ],
    [
      'over the daily cap → ask',
      { dailySpentMsat: 990_000 },
      'ask',
      'over your daily cap: 1020 of 1000 sats',
    ],
    ['no rule for the site → ask', { rules: rules() }, 'ask', 'no rule for this site yet'],
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
    expect(d).toMatchObject({ siteRemainingMsat: 70_000, dailyRemainingMsat: 600_000, reserveMsat: 30_000, maxFeeMsat: 10_000 });
    expect(evaluate(input({ rules: rules({ dailyCapMsat: null }) })).dailyRemainingMsat).toBeNull();
  });

  it('does not mutate its input', () => {
    const i = input();
    const copy = structuredClone(i);
    evaluate(i);
    expect(i).toEqual(copy);
  });
});
