// The money path (docs/design.md#house-style): reserve (persisted) → pending ledger record BEFORE paying → pay → verify
// sha256(preimage) == hash → commit (amount + actual fee) → store token. A timeout is "unknown", never
// "failed": the money stays reserved and the wallet is asked, never paid again (docs/design.md#nwc, docs/design.md#pay).
import type { DecodedInvoice } from '../../l402/index.ts';
import { verifyPreimage } from '../../l402/index.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/wallet.ts';
import type { PaymentRecord, Rules } from '../model/model.ts';
import { AutopilotError } from './errors.ts';
import { getPayment, listPayments, putPayment, updatePayment } from './ledger.ts';
import { type Breaker, commitReservation, getReservation, releaseReservation, tryReserve } from './reservations.ts';
import type { Decision } from './rules.ts';
import type { KeyValueStorage } from './storage.ts';
import { storeToken } from './tokens.ts';
import { errorMessage } from '../../util/error-message.ts';

interface LedgerDeps {
  storage: KeyValueStorage;
  clock: () => number;
}

interface PayerDeps extends LedgerDeps {
  wallet: Wallet;
  walletKind: 'nwc' | 'webln';
}

/** What is to be paid, already decoded and sanity-checked by the caller (the core's validateChallenge). */
export interface PaymentIntent {
  invoice: DecodedInvoice & { amountMsat: number };
  /** Service paid (L402: the origin that answered 402; WebLN: the page). */
  serviceOrigin: string;
  /** Page that caused the payment: the site whose budget it counts against (docs/design.md#rules-semantics). */
  initiator: string;
  url: string;
  kind: PaymentRecord['kind'];
  macaroon: string | null;
  rules: Rules;
  walletKind: PaymentRecord['walletKind'];
  /** The user approved it in a prompt: reserve even if the rules would ask. */
  force?: boolean;
  /** Never auto-pay: ask the user with this reason even inside the rules. */
  mustAsk?: string;
  /** Ask, whatever the budget, once this many payments to the service fall within the window (reservations.ts). */
  breaker?: Breaker;
}

export type PrepareResult =
  /** Budget reserved and a pending record written: go and pay it. */
  | { kind: 'reserved'; decision: Decision; record: PaymentRecord }
  /** The rules say ask or deny; nothing reserved. */
  | { kind: 'blocked'; decision: Decision }
  /** This payment hash is already in the ledger (paid, or in flight) for this same service and page: never pay it again. */
  | { kind: 'known'; record: PaymentRecord }
  /**
   * This hash was paid for ANOTHER service or page. A payment hash is no secret (payee, routing nodes and pages
   * paying through their own wallet see it), so it proves nothing: nothing is paid or handed out, and the caller
   * answers exactly as for an invoice the wallet cannot pay (the rules still decide first, so the ledger is no oracle).
   */
  | { kind: 'unpayable'; decision: Decision };

/** Is a known record this intent's own (same service, same page, same kind), so its result may be shared? */
function sameScope(
  known: Pick<PaymentRecord, 'origin' | 'initiator' | 'kind'>,
  intent: Pick<PaymentIntent, 'serviceOrigin' | 'initiator' | 'kind'>,
): boolean {
  return known.origin === intent.serviceOrigin && known.initiator === intent.initiator && known.kind === intent.kind;
}

class KnownPayment extends Error {
  readonly record: PaymentRecord;
  constructor(record: PaymentRecord) {
    super('payment hash already known');
    this.record = record;
  }
}

/**
 * Step 1 of a payment, atomically under the budget lock: refuse a hash the ledger already holds, check the
 * rules against current totals, reserve amount + max fee, write the PENDING record.
 * @example const p = await preparePayment({ storage, clock }, intent); if (p.kind === 'reserved') await executePayment(deps, p.record);
 */
export async function preparePayment(deps: LedgerDeps, intent: PaymentIntent): Promise<PrepareResult> {
  const hash = intent.invoice.paymentHash;
  let foreign = false;
  try {
    const { decision, reservation } = await tryReserve(
      deps,
      {
        paymentHash: hash,
        serviceOrigin: intent.serviceOrigin,
        initiator: intent.initiator,
        amountMsat: intent.invoice.amountMsat,
        rules: intent.rules,
        force: intent.force,
        mustAsk: intent.mustAsk,
        breaker: intent.breaker,
      },
      {
        // A failed payment may be tried again (no money moved); anything else is never paid twice.
        before: async () => {
          const known = await getPayment(deps.storage, hash);
          if (!known || known.status === 'failed') return;
          if (sameScope(known, intent)) throw new KnownPayment(known);
          foreign = true;
          return 'decide-only';
        },
        after: async (r) => {
          await putPayment(deps.storage, {
            paymentHash: hash,
            origin: intent.serviceOrigin,
            initiator: intent.initiator,
            url: intent.url,
            kind: intent.kind,
            invoice: intent.invoice.paymentRequest,
            amountMsat: intent.invoice.amountMsat,
            maxFeeMsat: r.maxFeeMsat,
            feeMsat: null,
            memo: intent.invoice.description,
            status: 'pending',
            preimage: null,
            macaroon: intent.macaroon,
            error: null,
            createdAt: r.at,
            settledAt: null,
            walletKind: intent.walletKind,
          });
        },
      },
    );
    if (foreign) return { kind: 'unpayable', decision };
    if (!reservation) return { kind: 'blocked', decision };
    const record = await getPayment(deps.storage, hash);
    if (!record) throw new Error('pending record vanished');
    return { kind: 'reserved', decision, record };
  } catch (e) {
    if (e instanceof KnownPayment) return { kind: 'known', record: e.record };
    throw e;
  }
}

/**
 * Success: keep the preimage first (it is the proof) — in the token, then in the ledger record — then commit the
 * spend. The token is stored before the record says `succeeded`, so whoever sees the record settled finds its token.
 */
async function settle(
  deps: LedgerDeps,
  record: PaymentRecord,
  preimage: string,
  feeMsat: number | null,
): Promise<PaymentRecord> {
  if (record.kind === 'l402' && record.macaroon) {
    await storeToken(deps, {
      paymentHash: record.paymentHash,
      origin: record.origin,
      macaroon: record.macaroon,
      preimage: preimage.toLowerCase(),
      grantedTo: [record.initiator],
    });
  }
  const done =
    (await updatePayment(deps.storage, record.paymentHash, {
      status: 'succeeded',
      preimage: preimage.toLowerCase(),
      feeMsat,
      error: null,
      settledAt: deps.clock(),
    })) ?? record;
  await commitReservation(deps.storage, record.paymentHash, feeMsat, {
    origin: record.origin,
    initiator: record.initiator,
    amountMsat: record.amountMsat,
    maxFeeMsat: record.maxFeeMsat,
    at: record.createdAt,
  });
  return done;
}

/** Definite failure: no money moved, give the budget back. */
async function fail(deps: LedgerDeps, record: PaymentRecord, error: string): Promise<PaymentRecord> {
  // Marked first, so a record that succeeded meanwhile (a late lookup) is never failed and never released.
  const now =
    (await updatePayment(
      deps.storage,
      record.paymentHash,
      { status: 'failed', error, settledAt: deps.clock() },
      { onlyIf: ['pending', 'unknown'] },
    )) ?? record;
  if (now.status === 'failed') await releaseReservation(deps.storage, record.paymentHash);
  return now;
}

async function markUnknown(deps: LedgerDeps, record: PaymentRecord, error: string): Promise<PaymentRecord> {
  return (await updatePayment(deps.storage, record.paymentHash, { status: 'unknown', error })) ?? record;
}

/** Wallet answers that say for sure no money moved; anything else leaves the outcome unknown. */
const DEFINITE_FAILURES: ReadonlySet<WalletError['code']> = new Set([
  'insufficient_balance',
  'quota_exceeded',
  'payment_failed',
  'unsupported',
  'unauthorized',
  'rejected',
  'unreachable',
]);

const BAD_PREIMAGE = 'the wallet returned a preimage that does not match the payment hash; the amount stays reserved';

/**
 * Asks the wallet about an unresolved payment and settles, fails or keeps it. Never pays.
 * Returns the record as it now stands.
 */
export async function resolvePayment(
  deps: LedgerDeps & { wallet: Wallet },
  record: PaymentRecord,
): Promise<PaymentRecord> {
  if (!deps.wallet.lookupPayment) return record;
  let found: Awaited<ReturnType<NonNullable<Wallet['lookupPayment']>>>;
  try {
    found = await deps.wallet.lookupPayment(record.paymentHash);
  } catch {
    return record; // still unknown: stays reserved (docs/design.md#rules-semantics)
  }
  if (found.state === 'succeeded') {
    if (!verifyPreimage(found.preimage, record.paymentHash)) return markUnknown(deps, record, BAD_PREIMAGE);
    return settle(deps, record, found.preimage, found.feeMsat);
  }
  if (found.state === 'failed') return fail(deps, record, `payment failed: ${found.reason}`);
  return record.status === 'unknown' ? record : markUnknown(deps, record, 'payment outcome not known yet');
}

/**
 * Step 2: pays a reserved, pending record, verifies the preimage, commits. Throws AutopilotError:
 * `payment_unknown` (timeout; stays reserved), `bad_preimage` (stays reserved), `insufficient_balance`,
 * `wallet_unavailable`, `payment_failed` (released).
 */
export async function executePayment(deps: PayerDeps, record: PaymentRecord): Promise<PaymentRecord> {
  let result: Awaited<ReturnType<Wallet['payInvoice']>>;
  try {
    result = await deps.wallet.payInvoice(record.invoice, { maxFeeMsat: record.maxFeeMsat });
  } catch (e) {
    const definite = e instanceof WalletError && DEFINITE_FAILURES.has(e.code);
    if (!definite) {
      // Timeout, a wallet's INTERNAL/OTHER/unknown error, or anything we cannot classify: maybe paid. Look it up,
      // never re-pay (docs/design.md#nwc).
      const unknown = await markUnknown(deps, record, `no answer from the wallet: ${errorMessage(e)}`);
      const now = await resolvePayment(deps, unknown);
      if (now.status === 'succeeded') return now;
      if (now.status === 'failed')
        throw new AutopilotError('payment_failed', now.error ?? 'payment failed', { cause: e });
      const what =
        e instanceof WalletError && e.code === 'timeout'
          ? 'the wallet did not answer in time'
          : "the wallet's answer does not say whether it paid";
      throw new AutopilotError(
        'payment_unknown',
        `${what}; the payment may have gone through, so its amount stays reserved until the wallet tells`,
        { cause: e },
      );
    }
    const code =
      e.code === 'insufficient_balance'
        ? 'insufficient_balance'
        : e.code === 'unreachable'
          ? 'wallet_unavailable'
          : 'payment_failed';
    const what =
      code === 'insufficient_balance'
        ? 'not enough balance in the wallet'
        : code === 'wallet_unavailable'
          ? 'the wallet cannot be reached'
          : 'the wallet could not pay';
    const failed = await fail(deps, record, `${what}: ${e.message}`);
    throw new AutopilotError(code, failed.error ?? what, { cause: e });
  }
  if (typeof result.preimage !== 'string' || !verifyPreimage(result.preimage, record.paymentHash)) {
    await markUnknown(deps, record, BAD_PREIMAGE);
    throw new AutopilotError('bad_preimage', BAD_PREIMAGE);
  }
  return settle(deps, record, result.preimage, result.feeMsat);
}

export interface ResumeSummary {
  succeeded: string[];
  failed: string[];
  stillUnknown: string[];
}

/**
 * At worker start (docs/design.md#pay): every pending/unknown payment is looked up via the wallet — succeeded →
 * verify, commit, store token; failed → release; still unknown → keep reserved. Also finishes a success whose
 * commit was interrupted. Never pays.
 * @example await resumePending({ storage, clock, wallet: await getWallet() })
 */
export async function resumePending(deps: LedgerDeps & { wallet: Wallet | null }): Promise<ResumeSummary> {
  const summary: ResumeSummary = { succeeded: [], failed: [], stillUnknown: [] };
  for (const r of await listPayments(deps.storage, { status: ['pending', 'unknown', 'succeeded'] })) {
    if (r.status === 'succeeded') {
      const res = await getReservation(deps.storage, r.paymentHash);
      if (res?.state === 'reserved' && r.preimage) await settle(deps, r, r.preimage, r.feeMsat);
      continue;
    }
    const now = deps.wallet ? await resolvePayment({ ...deps, wallet: deps.wallet }, r) : r;
    if (now.status === 'succeeded') summary.succeeded.push(r.paymentHash);
    else if (now.status === 'failed') summary.failed.push(r.paymentHash);
    else summary.stillUnknown.push(r.paymentHash);
  }
  return summary;
}
