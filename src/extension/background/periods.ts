// Calendar periods in the user's local time zone (docs/design.md#rules-semantics): daily from local
// midnight, weekly from Monday, monthly from the 1st; `never` is a lifetime total. Local time comes
// from `Date` (the process/browser time zone), so tests set `process.env.TZ`.
import type { Period } from '../model/model.ts';

/**
 * Unix ms at which the period containing `now` started (0 for `never`).
 * @example periodStart(Date.parse('2026-11-25T15:00'), 'weekly') // Monday 2026-11-23 00:00 local
 */
export function periodStart(now: number, period: Period): number {
  if (period === 'never') return 0;
  const d = new Date(now);
  if (period === 'monthly') return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  const midnight = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  if (period === 'daily') return midnight.getTime();
  // getDay(): Sunday = 0; weeks start on Monday.
  const sinceMonday = (d.getDay() + 6) % 7;
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - sinceMonday).getTime();
}

/**
 * Unix ms at which the period containing `now` ends and the budget renews; null for `never`.
 * @example renewsAt(now, 'daily') // next local midnight
 */
export function renewsAt(now: number, period: Period): number | null {
  if (period === 'never') return null;
  const s = new Date(periodStart(now, period));
  if (period === 'daily') return new Date(s.getFullYear(), s.getMonth(), s.getDate() + 1).getTime();
  if (period === 'weekly') return new Date(s.getFullYear(), s.getMonth(), s.getDate() + 7).getTime();
  return new Date(s.getFullYear(), s.getMonth() + 1, 1).getTime();
}
