import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../model/model.ts';
import { periodStart } from './periods.ts';
import {
  budgetTotals,
  commitReservation,
  countedMsat,
  listReservations,
  releaseReservation,
  siteOf,
  tryReserve,
} from './reservations.ts';
import { maxFeeFor } from './rules.ts';
import { type KeyValueStorage, memoryStorage } from './storage.ts';
import { NOW } from '../../../test/support/background-fixtures.ts';

const A = 'https://a.example';
const B = 'https://b.example';
const C = 'https://c.example'; // no rule: "ask" (never reserved without force) unless autoPayUnlisted
// Services pages call. Budgets belong to the initiator (the page), so a service's own rule never counts for
// another page; D is on the deny list: refused whoever calls it.
const S = 'https://s.example';
const D = 'https://d.example';
const RULES: Rules = {
  ...DEFAULT_RULES,
  perPaymentCapMsat: 60_000,
  dailyCapMsat: 300_000,
  feeFloorMsat: 1_000,
  maxFeePercent: 1,
  sites: [
    { pattern: A, budgetMsat: 100_000, period: 'daily', autoPay: true },
    { pattern: B, budgetMsat: 150_000, period: 'weekly', autoPay: true },
  ],
  deny: [D],
};

type Op =
  | { op: 'reserve'; h: number; origin: string; initiator: string; amountMsat: number; mustAsk: boolean }
  | { op: 'commit'; h: number; feeMsat: number }
  | { op: 'release'; h: number };

const hashOf = (h: number) => h.toString(16).padStart(64, '0');

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('reserve' as const),
    h: fc.nat(19),
    // The service paid: often the page itself, often another site's service (A's or B's included).
    origin: fc.constantFrom(A, B, C, S, D),
    initiator: fc.constantFrom(A, B, C),
    amountMsat: fc.integer({ min: 1_000, max: 70_000 }),
    // A challenge only the page reported for another origin (autopilot's mustAsk): never reserved.
    mustAsk: fc.boolean(),
  }),
  // Fees up to the fee floor (1 sat): never more than the max fee the wallet was given.
  fc.record({ op: fc.constant('commit' as const), h: fc.nat(19), feeMsat: fc.nat(1_000) }),
  fc.record({ op: fc.constant('release' as const), h: fc.nat(19) }),
);

/** The reference model: a plain map, applied in lock (= call) order. */
interface ModelEntry {
  origin: string;
  initiator: string;
  amountMsat: number;
  maxFeeMsat: number;
  spentMsat: number | null;
  at: number;
}

function modelCounted(e: ModelEntry): number {
  return e.spentMsat ?? e.amountMsat + e.maxFeeMsat;
}

function modelApply(model: Map<string, ModelEntry>, op: Op, now: number, rules: Rules): void {
  const hash = hashOf(op.h);
  const e = model.get(hash);
  if (op.op === 'reserve') {
    if (e || op.mustAsk || op.origin === D) return;
    const fee = maxFeeFor(op.amountMsat, rules);
    const total = op.amountMsat + fee;
    // The initiator's budget, whatever service is paid.
    const budget = op.initiator === A ? rules.sites[0] : op.initiator === B ? rules.sites[1] : undefined;
    // A site without a rule: only with autoPayUnlisted, and then only the two caps bound it.
    if ((!budget && !rules.autoPayUnlisted) || total > (rules.perPaymentCapMsat ?? Infinity)) return;
    let site = 0;
    let day = 0;
    for (const x of model.values()) {
      if (budget && x.initiator === op.initiator && x.at >= periodStart(now, budget.period)) site += modelCounted(x);
      if (x.at >= periodStart(now, 'daily')) day += modelCounted(x);
    }
    if ((budget && site + total > budget.budgetMsat) || day + total > (rules.dailyCapMsat ?? Infinity)) return;
    model.set(hash, {
      origin: op.origin,
      initiator: op.initiator,
      amountMsat: op.amountMsat,
      maxFeeMsat: fee,
      spentMsat: null,
      at: now,
    });
  } else if (op.op === 'commit') {
    if (!e || e.spentMsat !== null) return;
    e.spentMsat = e.amountMsat + op.feeMsat;
  } else if (e && e.spentMsat === null) {
    model.delete(hash);
  }
}

function run(storage: KeyValueStorage, clock: () => number, op: Op, rules: Rules): Promise<unknown> {
  const hash = hashOf(op.h);
  if (op.op === 'reserve') {
    return tryReserve(
      { storage, clock },
      {
        paymentHash: hash,
        serviceOrigin: op.origin,
        initiator: op.initiator,
        amountMsat: op.amountMsat,
        rules,
        mustAsk: op.mustAsk ? 'the browser did not confirm it' : undefined,
      },
    );
  }
  if (op.op === 'commit') {
    return commitReservation(storage, hash, op.feeMsat);
  }
  return releaseReservation(storage, hash);
}

/** Storage whose every call resolves when the fast-check scheduler says: random interleavings. */
function scheduledStorage(s: fc.Scheduler, inner: KeyValueStorage): KeyValueStorage {
  return {
    get: (k) => s.schedule(Promise.resolve()).then(() => inner.get(k)),
    set: (k, v) => s.schedule(Promise.resolve()).then(() => inner.set(k, v)),
    remove: (k) => s.schedule(Promise.resolve()).then(() => inner.remove(k)),
    getAll: (p) => s.schedule(Promise.resolve()).then(() => inner.getAll(p)),
  };
}

describe('reservations', () => {
  it('never lets committed + reserved exceed any budget or cap, under any interleaving and period rollover (with and without auto-pay for unlisted sites)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.boolean(),
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 3 * 86_400_000 }),
            ops: fc.array(opArb, { maxLength: 12 }),
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        async (s, autoPayUnlisted, batches) => {
          const rules: Rules = { ...RULES, autoPayUnlisted };
          const inner = memoryStorage();
          const storage = scheduledStorage(s, inner);
          let now = NOW;
          const clock = () => now;
          const model = new Map<string, ModelEntry>();
          for (const batch of batches) {
            now += batch.advanceMs;
            // All of a batch at once: the lock must serialise them (call order), whatever the storage timing.
            await s.waitFor(Promise.all(batch.ops.map((op) => run(storage, clock, op, rules))));
            for (const op of batch.ops) modelApply(model, op, now, rules);

            const entries = await listReservations(inner);
            for (const rule of rules.sites) {
              const t = budgetTotals(entries, rules, rule.pattern, now);
              expect(t.siteSpentMsat).toBeLessThanOrEqual(rule.budgetMsat);
            }
            expect(budgetTotals(entries, rules, C, now).dailySpentMsat).toBeLessThanOrEqual(
              rules.dailyCapMsat ?? Infinity,
            );
            for (const e of entries)
              expect(e.amountMsat + e.maxFeeMsat).toBeLessThanOrEqual(rules.perPaymentCapMsat ?? Infinity);
            if (!autoPayUnlisted) expect(entries.every((e) => siteOf(e) !== C)).toBe(true);
            expect(entries.every((e) => e.origin !== D)).toBe(true);
            const actual = Object.fromEntries(
              entries.map((e) => [e.paymentHash, [e.origin, e.initiator, countedMsat(e)]]),
            );
            const expected = Object.fromEntries(
              [...model].map(([h, e]) => [h, [e.origin, e.initiator, modelCounted(e)]]),
            );
            expect(actual).toEqual(expected);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("budget totals sum by initiator: a service's spend counts for the page that caused it; old entries without one count for their origin", async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    // A pays service S (counted for A), S visited directly pays itself (counted for S), C calls A's service (counted for C).
    await tryReserve(deps, {
      paymentHash: hashOf(1),
      serviceOrigin: S,
      initiator: A,
      amountMsat: 10_000,
      rules: RULES,
    });
    await tryReserve(deps, {
      paymentHash: hashOf(2),
      serviceOrigin: S,
      initiator: S,
      amountMsat: 10_000,
      rules: RULES,
      force: true,
    });
    await tryReserve(deps, {
      paymentHash: hashOf(3),
      serviceOrigin: A,
      initiator: C,
      amountMsat: 10_000,
      rules: RULES,
      force: true,
    });
    // Written by an older version (no initiator): counts for its origin.
    await storage.set(`reservation:${hashOf(4)}`, {
      paymentHash: hashOf(4),
      origin: A,
      amountMsat: 5_000,
      maxFeeMsat: 1_000,
      state: 'reserved',
      spentMsat: null,
      at: NOW,
    });
    const entries = await listReservations(storage);
    expect(entries.map(siteOf).sort()).toEqual([A, A, C, S]);
    expect(budgetTotals(entries, RULES, A, NOW)).toEqual({
      siteSpentMsat: 11_000 + 6_000,
      dailySpentMsat: 11_000 * 3 + 6_000,
    });
    const withS: Rules = {
      ...RULES,
      sites: [...RULES.sites, { pattern: S, budgetMsat: 1e9, period: 'daily', autoPay: true }],
    };
    expect(budgetTotals(entries, withS, S, NOW).siteSpentMsat).toBe(11_000);
  });

  it('50 simultaneous reserves for one site reserve at most its budget', async () => {
    const storage = memoryStorage();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        tryReserve(
          { storage, clock: () => NOW },
          { paymentHash: hashOf(1000 + i), serviceOrigin: A, initiator: A, amountMsat: 19_000, rules: RULES },
        ),
      ),
    );
    // 19 sats + 1 sat max fee = 20 sats each; budget 100 sats → 5.
    expect(results.filter((r) => r.reservation).length).toBe(5);
    expect(budgetTotals(await listReservations(storage), RULES, A, NOW).siteSpentMsat).toBe(100_000);
  });

  it('force reserves what the rules would ask about, never what they deny; a hash is reserved once', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    const req = { paymentHash: hashOf(1), serviceOrigin: C, initiator: C, amountMsat: 5_000, rules: RULES };
    expect((await tryReserve(deps, req)).reservation).toBeNull();
    expect((await tryReserve(deps, { ...req, force: true })).reservation).not.toBeNull();
    expect((await tryReserve(deps, { ...req, force: true })).reservation).toBeNull();
    const denied = { ...req, paymentHash: hashOf(2), rules: { ...RULES, deny: [C] }, force: true };
    expect((await tryReserve(deps, denied)).reservation).toBeNull();
  });

  it('auto-pay for unlisted sites: 50 simultaneous reserves for a site without a rule reserve at most the daily cap', async () => {
    const storage = memoryStorage();
    const rules: Rules = { ...RULES, autoPayUnlisted: true };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        tryReserve(
          { storage, clock: () => NOW },
          { paymentHash: hashOf(2000 + i), serviceOrigin: C, initiator: C, amountMsat: 49_000, rules },
        ),
      ),
    );
    // 49 sats + 1 sat max fee = 50 sats each; daily cap 300 sats → 6.
    expect(results.filter((r) => r.reservation).length).toBe(6);
    expect(results.find((r) => !r.reservation)?.decision.reason).toBe('over your daily cap: 350 of 300 sats');
    expect(budgetTotals(await listReservations(storage), rules, C, NOW).dailySpentMsat).toBe(300_000);
  });

  it('commit counts amount + actual fee; committed money is never released', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => NOW };
    await tryReserve(deps, {
      paymentHash: hashOf(7),
      serviceOrigin: A,
      initiator: A,
      amountMsat: 50_000,
      rules: RULES,
    });
    expect(budgetTotals(await listReservations(storage), RULES, A, NOW).siteSpentMsat).toBe(51_000);
    await commitReservation(storage, hashOf(7), 200);
    expect(await releaseReservation(storage, hashOf(7))).toBe(false);
    expect(budgetTotals(await listReservations(storage), RULES, A, NOW).siteSpentMsat).toBe(50_200);
    // The next day the daily budget is fresh, the weekly one is not.
    expect(budgetTotals(await listReservations(storage), RULES, A, NOW + 86_400_000).siteSpentMsat).toBe(0);
  });
});
