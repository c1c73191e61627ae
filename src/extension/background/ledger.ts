// The payment ledger: one PaymentRecord per payment hash, written as `pending` BEFORE paying
// (docs/design.md#pay) so a restarted worker can resume it, and exported for the user as CSV or JSON (docs/design.md#show).
import type { PaymentRecord } from '../model/model.ts';
import { BUDGET_LOCK } from './reservations.ts';
import { type KeyValueStorage, withLock } from './storage.ts';

const PREFIX = 'payment:';

export async function getPayment(storage: KeyValueStorage, paymentHash: string): Promise<PaymentRecord | undefined> {
  return storage.get<PaymentRecord>(PREFIX + paymentHash);
}

export async function putPayment(storage: KeyValueStorage, record: PaymentRecord): Promise<void> {
  await storage.set(PREFIX + record.paymentHash, record);
}

/**
 * Applies a change to a stored record under the budget lock (the one reservations and pending records are
 * written under), and returns the record as it now stands (undefined if there was none). A `succeeded` record
 * keeps its status whatever a late or stale answer says (its preimage is the proof); `onlyIf` limits the change
 * to records in those states.
 */
export function updatePayment(
  storage: KeyValueStorage,
  paymentHash: string,
  change: Partial<Omit<PaymentRecord, 'paymentHash'>>,
  opts: { onlyIf?: readonly PaymentRecord['status'][] } = {},
): Promise<PaymentRecord | undefined> {
  return withLock(BUDGET_LOCK, async () => {
    const r = await getPayment(storage, paymentHash);
    if (!r) return undefined;
    if (opts.onlyIf && !opts.onlyIf.includes(r.status)) return r;
    if (r.status === 'succeeded' && change.status !== undefined && change.status !== 'succeeded') return r;
    const next = { ...r, ...change };
    await putPayment(storage, next);
    return next;
  });
}

interface PaymentFilter {
  origin?: string;
  /** Unix ms, inclusive. */
  from?: number;
  /** Unix ms, exclusive. */
  to?: number;
  status?: PaymentRecord['status'][];
  limit?: number;
}

/**
 * Records matching the filter, newest first.
 * @example await listPayments(storage, { origin: 'https://api.example.com', limit: 20 })
 */
export async function listPayments(storage: KeyValueStorage, filter: PaymentFilter = {}): Promise<PaymentRecord[]> {
  const all = [...(await storage.getAll<PaymentRecord>(PREFIX)).values()].filter(
    (r) =>
      (filter.origin === undefined || r.origin === filter.origin) &&
      (filter.from === undefined || r.createdAt >= filter.from) &&
      (filter.to === undefined || r.createdAt < filter.to) &&
      (filter.status === undefined || filter.status.includes(r.status)),
  );
  all.sort((a, b) => b.createdAt - a.createdAt || a.paymentHash.localeCompare(b.paymentHash));
  return filter.limit === undefined ? all : all.slice(0, Math.max(0, filter.limit));
}

const CSV_COLUMNS = [
  'createdAt',
  'settledAt',
  'status',
  'kind',
  'origin',
  'initiator',
  'url',
  'amountSats',
  'feeSats',
  'memo',
  'paymentHash',
  'preimage',
  'invoice',
  'walletKind',
  'error',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. Leading =+-@ are defused
 * with a quote prefix so a spreadsheet never runs a memo chosen by a site as a formula. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The ledger as CSV (header row, CRLF line ends, amounts in sats).
 * @example download(toCsv(await listPayments(storage)))
 */
export function toCsv(records: readonly PaymentRecord[]): string {
  const rows = records.map((r) => {
    const cells: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
      createdAt: iso(r.createdAt),
      settledAt: iso(r.settledAt),
      status: r.status,
      kind: r.kind,
      origin: r.origin,
      initiator: r.initiator,
      url: r.url,
      amountSats: r.amountMsat / 1000,
      feeSats: r.feeMsat === null ? null : r.feeMsat / 1000,
      memo: r.memo,
      paymentHash: r.paymentHash,
      preimage: r.preimage,
      invoice: r.invoice,
      walletKind: r.walletKind,
      error: r.error,
    };
    return CSV_COLUMNS.map((c) => csvField(cells[c])).join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}

/** The ledger as pretty JSON (msat amounts, as stored). */
export function toJson(records: readonly PaymentRecord[]): string {
  return JSON.stringify(records, null, 2);
}
