import { describe, expect, test } from 'vitest';
import { dailyTotals } from '../options/spend-chart.tsx';
import { challengeBreakdown } from '../../model/model.ts';
import { dayKey, parseSats, registrableDomain, relative, sats, schemeList, siteNames } from './format.ts';

describe('sats formatting', () => {
  test('msat are shown as sats with separators and sub-sat precision', () => {
    expect(sats(1_234_567_000)).toBe((1_234_567).toLocaleString());
    expect(sats(1_500)).toBe((1.5).toLocaleString());
    expect(sats(0)).toBe('0');
  });

  test('typed sats parse to msat; separators allowed, negatives and fractions refused in words', () => {
    expect(parseSats('1,000')).toEqual({ ok: true, msat: 1_000_000 });
    expect(parseSats(' 21 ')).toEqual({ ok: true, msat: 21_000 });
    expect(parseSats('-5')).toEqual({ ok: false, message: 'Use a whole number of sats, 0 or more (no decimals).' });
    expect(parseSats('1.5').ok).toBe(false);
    expect(parseSats('').ok).toBe(false);
    expect(parseSats('9'.repeat(20))).toEqual({ ok: false, message: 'That amount is too large.' });
  });

  test('relative times read naturally both ways', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(relative(now + 5 * 60_000, now)).toBe('in 5 min');
    expect(relative(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(relative(now + 3 * 86_400_000, now)).toBe('in 3 days');
  });
});

describe('spend per day', () => {
  test('every local day in the range appears once, with its sum', () => {
    const start = new Date(2026, 2, 27, 9).getTime(); // spans the EU DST change on 29 March
    const day = 86_400_000;
    const items = [
      { at: start, msat: 1_000 },
      { at: start + 60_000, msat: 2_000 },
      { at: start + 3 * day, msat: 5_000 },
    ];
    const days = dailyTotals(items, start, start + 4 * day);
    expect(days.map((d) => d.day)).toEqual([0, 1, 2, 3, 4].map((i) => dayKey(new Date(2026, 2, 27 + i, 12).getTime())));
    expect(days.map((d) => d.msat)).toEqual([3_000, 0, 0, 5_000, 0]);
  });
});

describe('registrableDomain', () => {
  test('is eTLD+1 from the public suffix list, private suffixes included; an IP or localhost stays as is', () => {
    expect(registrableDomain('https://uploads.shop.example.co.uk:8443')).toBe('example.co.uk');
    expect(registrableDomain('https://alice.github.io')).toBe('alice.github.io');
    expect(registrableDomain('http://127.0.0.1:3000')).toBe('127.0.0.1');
    expect(registrableDomain('http://localhost:3000')).toBe('localhost');
  });
});

describe('siteNames', () => {
  test('the registrable domain, and the full host only when it adds a subdomain', () => {
    expect(siteNames('https://uploads.example.com:8443')).toEqual({
      domain: 'example.com',
      host: 'uploads.example.com:8443',
    });
    expect(siteNames('https://example.com:8443')).toEqual({ domain: 'example.com:8443', host: null });
    expect(siteNames('http://127.0.0.1:8402')).toEqual({ domain: '127.0.0.1:8402', host: null });
  });
});

describe('the schemes a tab met', () => {
  test('short names for the pill, the full breakdown for its tooltip, in a fixed order', () => {
    expect(schemeList({ x402: 1, l402: 2, other: 4 })).toBe('L402 + x402');
    expect(schemeList({ other: 1 })).toBe('');
    expect(challengeBreakdown({ payment: 1, l402: 2, other: 1 })).toBe(
      '2 × L402 (token), 1 × Payment (one-time charge), 1 × other 402',
    );
  });
});
