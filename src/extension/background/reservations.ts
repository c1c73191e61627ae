// Budget reservations: atomic reserve → commit / release, persisted under the payment hash so a restarted
// worker sees them (docs/design.md#rules-semantics). What counts against a budget is every committed entry
// (amount + fee actually paid) plus every open reservation (amount + max fee) of the current period.
import type { Rules } from '../model/model.ts';
import { periodStart } from './periods.ts';
import { type Decision, evaluate, matchesPattern, siteRuleFor } from './rules.ts';
import { type KeyValueStorage, withLock } from './storage.ts';

/** One budget entry. `reserved` until the payment's outcome is known; unknown outcomes stay reserved. */
interface Reservation {
  paymentHash: string;
  /** Service origin that was paid (L402: the origin that answered 402; WebLN: the calling page). */
  origin: string;
  /**
   * Page origin that caused the payment: the site the money counts against (docs/design.md#rules-semantics).
   * Absent in entries written by versions that kept budgets per service: those count against `origin`.
   */
  initiator?: string;
  amountMsat: number;
  maxFeeMsat: number;
  state: 'reserved' | 'committed';
  /** amount + fee actually paid (committed entries). */
  spentMsat: number | null;
  /** Unix ms of the reservation: decides the period the money counts in. */
  at: number;
}

/** The lock every budget read-modify-write holds (shared by all extension contexts via navigator.locks). */
export const BUDGET_LOCK = 'l402-autopilot:budget';
const PREFIX = 'reservation:';

/** What an entry counts against budgets: actual spend once committed, the full reservation before. */
export function countedMsat(r: Reservation): number {
  return r.state === 'committed' ? (r.spentMsat ?? r.amountMsat + r.maxFeeMsat) : r.amountMsat + r.maxFeeMsat;
}

/** Every reservation in storage. */
export async function listReservations(storage: KeyValueStorage): Promise<Reservation[]> {
  return [...(await storage.getAll<Reservation>(PREFIX)).values()];
}

export async function getReservation(storage: KeyValueStorage, paymentHash: string): Promise<Reservation | undefined> {
  return storage.get<Reservation>(PREFIX + paymentHash);
}

/** The site an entry's money counts against: the page that caused it (older entries: the service). */
export function siteOf(r: Pick<Reservation, 'origin' | 'initiator'>): string {
  return r.initiator ?? r.origin;
}

/** Spent + reserved, msat, for the site rule applying to the initiator (its current period) and for today overall. */
interface BudgetTotals {
  siteSpentMsat: number;
  dailySpentMsat: number;
}

/**
 * Sums entries for the rule that applies to the page `initiator` (entries caused by every page the rule's pattern
 * matches, since its period start, whatever service they paid) and all entries since local midnight.
 * @example budgetTotals(await listReservations(storage), rules, 'https://app.example.com', Date.now())
 */
export function budgetTotals(
  entries: readonly Reservation[],
  rules: Rules,
  initiator: string,
  now: number,
): BudgetTotals {
  const rule = siteRuleFor(rules.sites, initiator);
  const siteSince = rule ? periodStart(now, rule.period) : 0;
  const daySince = periodStart(now, 'daily');
  let siteSpentMsat = 0;
  let dailySpentMsat = 0;
  for (const e of entries) {
    const c = countedMsat(e);
    if (rule && e.at >= siteSince && matchesPattern(rule.pattern, siteOf(e))) siteSpentMsat += c;
    if (e.at >= daySince) dailySpentMsat += c;
  }
  return { siteSpentMsat, dailySpentMsat };
}

/** Spent + reserved over all sites since local midnight, msat (the global daily cap's measure). */
export function dailySpentMsat(entries: readonly Reservation[], now: number): number {
  const since = periodStart(now, 'daily');
  return entries.reduce((n, e) => (e.at >= since ? n + countedMsat(e) : n), 0);
}

interface ReserveDeps {
  storage: KeyValueStorage;
  clock: () => number;
}

interface ReserveRequest {
  paymentHash: string;
  /** The service paid (deny list). */
  serviceOrigin: string;
  /** The page that caused it: whose budget and auto-pay apply. */
  initiator: string;
  amountMsat: number;
  rules: Rules;
  /** The user approved this payment in a prompt: reserve even when the rules would ask. Never overrides `deny`. */
  force?: boolean;
  /** Never auto-pay this one: where the rules say pay, ask instead, with this reason. */
  mustAsk?: string;
  /** Circuit breaker: once `maxPayments` payments to `origin` fall within `windowMs`, the next one asks, whatever the budget. */
  breaker?: Breaker;
}

export interface Breaker {
  maxPayments: number;
  windowMs: number;
}

/** Why the breaker asks, or null when `origin` has had fewer than `b.maxPayments` payments within the window. */
function breakerReason(entries: readonly Reservation[], origin: string, b: Breaker, now: number): string | null {
  const recent = entries.filter((e) => e.origin === origin && e.at > now - b.windowMs).length;
  if (recent < b.maxPayments) return null;
  const minutes = Math.max(1, Math.round(b.windowMs / 60_000));
  return `${recent} payments to ${origin} in the last ${minutes} min: a service that keeps asking may be selling tokens that do not work, so each further payment needs your OK`;
}

/**
 * Hooks run INSIDE the budget lock: `before` may throw to abort (e.g. hash already paid), or answer 'decide-only'
 * to have the rules evaluated without reserving anything; `after` persists more.
 */
interface ReserveHooks {
  before?: () => Promise<undefined | 'decide-only'>;
  after?: (r: Reservation) => Promise<void>;
}

/**
 * Atomically checks the rules against current totals and, when they say pay (or the user forced it), writes a
 * reservation. Returns the decision and the reservation (null when nothing was reserved).
 * @example const { decision, reservation } = await tryReserve({ storage, clock }, { paymentHash, origin, initiator, amountMsat, rules });
 */
export function tryReserve(
  deps: ReserveDeps,
  req: ReserveRequest,
  hooks: ReserveHooks = {},
): Promise<{ decision: Decision; reservation: Reservation | null }> {
  return withLock(BUDGET_LOCK, async () => {
    const mode = await hooks.before?.();
    const now = deps.clock();
    const existing = await getReservation(deps.storage, req.paymentHash);
    const entries = await listReservations(deps.storage);
    const totals = budgetTotals(entries, req.rules, req.initiator, now);
    const evaluated = evaluate({
      rules: req.rules,
      serviceOrigin: req.serviceOrigin,
      initiator: req.initiator,
      amountMsat: req.amountMsat,
      invalid: null,
      ...totals,
    });
    const tripped = req.breaker ? breakerReason(entries, req.serviceOrigin, req.breaker, now) : null;
    const askWhy = tripped ?? req.mustAsk;
    const decision: Decision =
      evaluated.action === 'pay' && askWhy ? { ...evaluated, action: 'ask', reason: askWhy } : evaluated;
    // A hash already holds money: never a second reservation (a payment hash is never paid twice).
    if (existing || mode === 'decide-only') return { decision, reservation: null };
    const go = decision.action === 'pay' || (req.force === true && decision.action === 'ask');
    if (!go) return { decision, reservation: null };
    const reservation: Reservation = {
      paymentHash: req.paymentHash,
      origin: req.serviceOrigin,
      initiator: req.initiator,
      amountMsat: req.amountMsat,
      maxFeeMsat: decision.maxFeeMsat,
      state: 'reserved',
      spentMsat: null,
      at: now,
    };
    await deps.storage.set(PREFIX + req.paymentHash, reservation);
    await hooks.after?.(reservation);
    return { decision, reservation };
  });
}

/**
 * Turns a reservation into spend: amount + the fee actually paid (the max fee when the wallet did not say).
 * When money moved but the reservation is gone, pass `fallback` so the spend is still counted; without it a
 * missing reservation is left alone (returns null).
 */
export function commitReservation(
  storage: KeyValueStorage,
  paymentHash: string,
  feeMsat: number | null,
  fallback?: Omit<Reservation, 'state' | 'spentMsat' | 'paymentHash'>,
): Promise<Reservation | null> {
  return withLock(BUDGET_LOCK, async () => {
    const found = await getReservation(storage, paymentHash);
    const r: Reservation | null =
      found ?? (fallback ? { ...fallback, paymentHash, state: 'reserved', spentMsat: null } : null);
    if (!r || r.state === 'committed') return r;
    const fee = feeMsat ?? r.maxFeeMsat;
    const committed: Reservation = { ...r, state: 'committed', spentMsat: r.amountMsat + Math.max(0, fee) };
    await storage.set(PREFIX + paymentHash, committed);
    return committed;
  });
}

/** Gives a reservation's money back (definite failure only). Committed entries are never released. */
export function releaseReservation(storage: KeyValueStorage, paymentHash: string): Promise<boolean> {
  return withLock(BUDGET_LOCK, async () => {
    const r = await getReservation(storage, paymentHash);
    if (!r || r.state === 'committed') return false;
    await storage.remove(PREFIX + paymentHash);
    return true;
  });
}
