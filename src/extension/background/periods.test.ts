import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodStart, renewsAt } from './periods.ts';

const savedTz = process.env.TZ;
beforeAll(() => {
  // A zone with DST and a non-zero offset, so "local midnight" differs from UTC midnight.
  process.env.TZ = 'Europe/Berlin';
});
afterAll(() => {
  process.env.TZ = savedTz;
});

const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();

describe('periods in local time', () => {
  it('daily starts at local midnight, not UTC midnight', () => {
    const now = Date.parse('2026-11-24T23:30:00Z'); // 00:30 on the 25th in Berlin
    expect(periodStart(now, 'daily')).toBe(local(2026, 11, 25));
    expect(periodStart(now, 'daily')).toBe(Date.parse('2026-11-24T23:00:00Z'));
    expect(renewsAt(now, 'daily')).toBe(local(2026, 11, 26));
  });
  it('weekly starts on Monday', () => {
    expect(periodStart(local(2026, 11, 25, 15), 'weekly')).toBe(local(2026, 11, 23)); // Wednesday → Monday
    expect(periodStart(local(2026, 11, 23, 0, 0), 'weekly')).toBe(local(2026, 11, 23)); // Monday midnight
    expect(periodStart(local(2026, 11, 29, 23, 59), 'weekly')).toBe(local(2026, 11, 23)); // Sunday
    expect(renewsAt(local(2026, 11, 29, 23, 59), 'weekly')).toBe(local(2026, 11, 30));
  });
  it('monthly starts on the 1st and renews on the next 1st (across a year end)', () => {
    expect(periodStart(local(2026, 12, 31, 23), 'monthly')).toBe(local(2026, 12, 1));
    expect(renewsAt(local(2026, 12, 31, 23), 'monthly')).toBe(local(2027, 1, 1));
  });
  it('a day across a DST change is 23 hours long', () => {
    const now = local(2026, 3, 29, 12); // DST starts in Europe on 2026-03-29
    expect((renewsAt(now, 'daily') ?? 0) - periodStart(now, 'daily')).toBe(23 * 3600_000);
  });
  it('never is a lifetime total', () => {
    expect(periodStart(Date.now(), 'never')).toBe(0);
    expect(renewsAt(Date.now(), 'never')).toBeNull();
  });
});
