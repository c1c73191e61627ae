// A small SVG bar chart of spending per local day. No chart library: a few rects keep the bundle small.
import { dayKey, sats } from '../common/format.ts';

interface DayTotal {
  day: string;
  msat: number;
}

/** Every local day from `fromMs` to `toMs` (inclusive), with the spend on it (0 when none). */
export function dailyTotals(items: readonly { at: number; msat: number }[], fromMs: number, toMs: number): DayTotal[] {
  const sums = new Map<string, number>();
  for (const i of items) sums.set(dayKey(i.at), (sums.get(dayKey(i.at)) ?? 0) + i.msat);
  const out: DayTotal[] = [];
  const d = new Date(fromMs);
  d.setHours(12, 0, 0, 0); // noon steps never skip or repeat a day across DST changes
  while (d.getTime() <= toMs + 12 * 3_600_000 && out.length < 400) {
    const key = dayKey(d.getTime());
    out.push({ day: key, msat: sums.get(key) ?? 0 });
    d.setDate(d.getDate() + 1);
  }
  return out;
}

export function SpendChart({ days }: { days: DayTotal[] }) {
  const W = 640;
  const H = 170;
  const pad = { l: 8, r: 8, t: 18, b: 22 };
  const max = Math.max(1, ...days.map((d) => d.msat));
  const slot = (W - pad.l - pad.r) / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const total = days.reduce((s, d) => s + d.msat, 0);
  const labelEvery = Math.ceil(days.length / 10);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Spending per day: ${sats(total)} sats over ${days.length} days`}
      >
        <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} class="axis" />
        <text x={pad.l} y={11} class="tick">
          max {sats(max)} sats/day
        </text>
        {days.map((d, i) => {
          const h = ((H - pad.t - pad.b) * d.msat) / max;
          const x = pad.l + slot * i + (slot - barW) / 2;
          return (
            <g key={d.day}>
              <rect
                x={x}
                y={H - pad.b - h}
                width={barW}
                height={Math.max(h, d.msat > 0 ? 2 : 0)}
                rx={3}
                class="bar-rect"
              >
                <title>{`${d.day}: ${sats(d.msat)} sats`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={H - 6} class="tick" text-anchor="middle">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
