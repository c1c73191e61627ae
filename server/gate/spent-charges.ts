// One-time `Payment` charges already redeemed, so a replayed credential is refused. An entry is kept until its
// challenge expires (after that the challenge itself is refused), so the store stays small. Persisted so a restart
// does not reopen replays.
import { join } from 'node:path';
import { openJsonState } from '../lightning/json-state.ts';
import type { SharedStore } from '../tokens/shared-store.ts';

/** What the charge gate needs: record a charge as redeemed, once (false when it already was). */
export interface ChargeSpender {
  spend(paymentHash: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * Spent charges in the shared store (PostgreSQL), so a charge redeemed on one instance is refused on every other.
 * Throws StoreUnavailableError when the database is down: the gate answers 503 rather than redeem blindly.
 */
export function sharedSpentCharges(store: Pick<SharedStore, 'spendOnce'>): ChargeSpender {
  return { spend: (paymentHash) => store.spendOnce(paymentHash) };
}

/** Redeemed charges by payment hash. */
export interface SpentCharges extends ChargeSpender {
  /**
   * Marks `paymentHash` spent until `expiresAt` (unix seconds). False when it already was: check and mark are one
   * synchronous step, so two concurrent requests with one credential cannot both pass.
   */
  spend(paymentHash: string, expiresAt: number): boolean;
  has(paymentHash: string): boolean;
  /** Drops entries whose challenge has expired. */
  prune(nowSeconds: number): void;
  readonly size: number;
}

type State = Record<string, number>;

const isState = (v: unknown): v is State =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number');

function storeOver(map: State, now: () => number, persist: () => void): SpentCharges {
  const prune = (nowSeconds: number) => {
    let dropped = false;
    for (const [hash, until] of Object.entries(map)) {
      if (until <= nowSeconds) {
        delete map[hash];
        dropped = true;
      }
    }
    if (dropped) persist();
  };
  return {
    spend(paymentHash, expiresAt) {
      if (Object.hasOwn(map, paymentHash)) return false;
      prune(Math.floor(now() / 1000));
      map[paymentHash] = expiresAt;
      persist();
      return true;
    },
    has: (paymentHash) => Object.hasOwn(map, paymentHash),
    prune,
    get size() {
      return Object.keys(map).length;
    },
  };
}

/** In memory only (tests, the no-disk benchmark). */
export function memorySpentCharges(now: () => number = Date.now): SpentCharges {
  return storeOver(Object.create(null) as State, now, () => undefined);
}

/**
 * Persisted in `<dataDir>/spent-charges.json`; written right away on every spend, since a lost write would let a
 * charge be redeemed twice.
 */
export function openSpentCharges(dataDir: string, now: () => number = Date.now): SpentCharges {
  const state = openJsonState<State>(join(dataDir, 'spent-charges.json'), () => ({}), isState);
  const store = storeOver(state.value, now, () => state.saveNow());
  store.prune(Math.floor(now() / 1000));
  return store;
}
