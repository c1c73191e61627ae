// The payment ledger: filter by site and date, totals per site, spend per day, export, preimage as proof.
import { useMemo, useState } from 'preact/hooks';
import { toCsv, toJson } from '../../background/ledger.ts';
import { type PaymentRecord, SCHEME_NAMES } from '../../model/model.ts';
import { Banner, SiteIcon, Spinner, StatusPill } from '../common/components.tsx';
import { fullTime, hostOf, sats, shortTime } from '../common/format.ts';
import { useApi } from '../common/use-api.ts';
import { dailyTotals, SpendChart } from './spend-chart.tsx';

const DAY = 86_400_000;

/** Local midnight of a yyyy-mm-dd date input; the input's value is a local calendar day. */
function dateStart(value: string): number | undefined {
  if (!value) return undefined;
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y ?? 0, (m ?? 1) - 1, d ?? 1).getTime();
}

/** What a payment cost: amount plus the fee actually paid (SPEC: both count against budgets). Failed ones cost 0. */
function costOf(p: PaymentRecord): number {
  return p.status === 'succeeded' ? p.amountMsat + (p.feeMsat ?? 0) : 0;
}

function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // Revoke later: Chrome reads the blob asynchronously after click().
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function PaymentRow({ p }: { p: PaymentRecord }) {
  const [open, setOpen] = useState(false);
  const toggle = () => setOpen(!open);
  return (
    <>
      <tr
        class="clickable"
        tabIndex={0}
        aria-expanded={open}
        onClick={toggle}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            toggle();
          }
        }}
      >
        <td class="num muted" title={fullTime(p.createdAt)}>
          {shortTime(p.createdAt)}
        </td>
        <td>
          <span class="row">
            <SiteIcon origin={p.origin} />
            <span class="ellipsis">{hostOf(p.origin)}</span>
            <span class="muted small" data-testid="ledger-scheme">
              {SCHEME_NAMES[p.kind] ?? p.kind}
            </span>
          </span>
        </td>
        <td class="right num" style="font-weight:650">
          {sats(p.amountMsat)}
        </td>
        <td class="right num muted">{p.feeMsat === null ? '—' : sats(p.feeMsat)}</td>
        <td>
          <StatusPill status={p.status} />
        </td>
      </tr>
      {open && (
        <tr class="detail">
          <td colSpan={5}>
            <dl class="proof">
              <dt>Preimage (proof of payment)</dt>
              <dd class="mono" data-testid="preimage">
                {p.preimage ?? (p.status === 'failed' ? 'none: the payment failed' : 'not known yet')}
              </dd>
              <dt>Payment hash</dt>
              <dd class="mono">{p.paymentHash}</dd>
              <dt>Request</dt>
              <dd class="mono">{p.url}</dd>
              {p.memo && (
                <>
                  <dt>Memo</dt>
                  <dd>{p.memo}</dd>
                </>
              )}
              {p.error && (
                <>
                  <dt>Error</dt>
                  <dd>{p.error}</dd>
                </>
              )}
              <dt>Fee reserved / paid</dt>
              <dd class="num">
                {sats(p.maxFeeMsat)} / {p.feeMsat === null ? '—' : sats(p.feeMsat)} sats · via{' '}
                {p.walletKind === 'nwc' ? 'NWC' : 'WebLN'}
              </dd>
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}

interface Filter {
  origin: string;
  from: string;
  to: string;
}

/** Site and date filters, and the export of what they select (`rows` is null until loaded). */
function FiltersCard({
  sites,
  filter,
  onFilter,
  rows,
}: {
  sites: string[];
  filter: Filter;
  onFilter: (f: Filter) => void;
  rows: PaymentRecord[] | null;
}) {
  const { origin, from, to } = filter;
  const stamp = new Date().toISOString().slice(0, 10);
  return (
    <section class="card">
      <div class="filters">
        <div class="field">
          <label for="f-site">Site</label>
          <select id="f-site" value={origin} onChange={(e) => onFilter({ ...filter, origin: e.currentTarget.value })}>
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {hostOf(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-from">From</label>
          <input
            id="f-from"
            type="date"
            value={from}
            max={to || undefined}
            onInput={(e) => onFilter({ ...filter, from: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="f-to">To</label>
          <input
            id="f-to"
            type="date"
            value={to}
            min={from || undefined}
            onInput={(e) => onFilter({ ...filter, to: e.currentTarget.value })}
          />
        </div>
        <div class="row export">
          <button
            type="button"
            class="btn"
            disabled={!rows}
            onClick={() => rows && download(`l402-payments-${stamp}.csv`, 'text/csv', toCsv(rows))}
          >
            Export CSV
          </button>
          <button
            type="button"
            class="btn"
            disabled={!rows}
            onClick={() => rows && download(`l402-payments-${stamp}.json`, 'application/json', toJson(rows))}
          >
            Export JSON
          </button>
        </div>
      </div>
    </section>
  );
}

/** Spending per day over the selected range. */
function ChartCard({ days, total }: { days: ReturnType<typeof dailyTotals>; total: number }) {
  return (
    <section class="card" aria-labelledby="chart-h">
      <div class="card-title">
        <h2 id="chart-h">Spending per day</h2>
        <span class="num">
          <strong>{sats(total)}</strong> <span class="muted">sats</span>
        </span>
      </div>
      <SpendChart days={days} />
    </section>
  );
}

/** What each site spent in the selected range, largest first. */
function TotalsCard({ perSite }: { perSite: [string, { msat: number; count: number }][] }) {
  return (
    <section class="card" aria-labelledby="totals-h">
      <div class="card-title">
        <h2 id="totals-h">By site</h2>
      </div>
      {perSite.length === 0 ? (
        <p class="empty">Nothing spent in this range.</p>
      ) : (
        <ul class="list" data-testid="site-totals">
          {perSite.map(([o, t]) => (
            <li key={o}>
              <SiteIcon origin={o} />
              <div class="grow ellipsis">{hostOf(o)}</div>
              <div class="num" style="text-align:right">
                <strong>{sats(t.msat)}</strong> <span class="muted small">sats</span>
                <div class="muted small">{t.count} paid</div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The payments themselves; a row opens its proof. */
function PaymentsCard({ rows, loading }: { rows: PaymentRecord[] | null; loading: boolean }) {
  return (
    <section class="card" aria-labelledby="payments-h">
      <div class="card-title">
        <h2 id="payments-h">Payments</h2>
        <span class="muted small">Click a payment to see its proof</span>
      </div>
      {loading && <Spinner />}
      {rows && rows.length === 0 && <p class="empty">No payments match.</p>}
      {rows && rows.length > 0 && (
        <table data-testid="ledger-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Site</th>
              <th class="right">Sats</th>
              <th class="right">Fee</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <PaymentRow key={p.paymentHash} p={p} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Ledger() {
  const [origin, setOrigin] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const fromMs = dateStart(from);
  const toStart = dateStart(to);
  const toMs = toStart === undefined ? undefined : toStart + DAY; // the "to" day is included
  const all = useApi('listPayments', {});
  const filtered = useApi(
    'listPayments',
    {
      ...(origin ? { origin } : {}),
      ...(fromMs === undefined ? {} : { from: fromMs }),
      ...(toMs === undefined ? {} : { to: toMs }),
    },
    [origin, from, to],
  );

  const sites = useMemo(() => [...new Set((all.data ?? []).map((p) => p.origin))].sort(), [all.data]);
  const rows = filtered.data ?? [];
  const perSite = useMemo(() => {
    const m = new Map<string, { msat: number; count: number }>();
    for (const p of rows) {
      const t = m.get(p.origin) ?? { msat: 0, count: 0 };
      m.set(p.origin, { msat: t.msat + costOf(p), count: t.count + (p.status === 'succeeded' ? 1 : 0) });
    }
    return [...m.entries()].sort((a, b) => b[1].msat - a[1].msat);
  }, [rows]);
  const days = useMemo(() => {
    const end = toMs === undefined ? Date.now() : toMs - 1;
    const start = fromMs ?? end - 13 * DAY;
    return dailyTotals(
      rows.map((p) => ({ at: p.createdAt, msat: costOf(p) })),
      start,
      end,
    );
  }, [rows, fromMs, toMs]);
  const total = perSite.reduce((s, [, t]) => s + t.msat, 0);

  return (
    <div class="stack loose">
      <FiltersCard
        sites={sites}
        filter={{ origin, from, to }}
        onFilter={(f) => {
          setOrigin(f.origin);
          setFrom(f.from);
          setTo(f.to);
        }}
        rows={filtered.data ? rows : null}
      />

      {filtered.error && <Banner kind="error">{filtered.error}</Banner>}

      <div class="ledger-top">
        <ChartCard days={days} total={total} />
        <TotalsCard perSite={perSite} />
      </div>

      <PaymentsCard rows={filtered.data ? rows : null} loading={!filtered.data && !filtered.error} />
    </div>
  );
}
