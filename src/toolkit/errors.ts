// Typed failures of the L402-aware fetch (docs/design.md#the-page-toolkit).
import type { PaymentDemand } from '../l402/index.ts';

/**
 * Why an L402 fetch gave up. Money was spent only for `bad_preimage` (maybe), `payment_unknown` (maybe),
 * and `retry_failed` (yes: the server rejected a token we paid for).
 */
export type L402FetchErrorCode =
  /** The invoice asks more than `maxAmountSat`. Nothing paid. */
  | 'over_limit'
  /** `onChallenge` said no, or the wallet's user rejected the payment. Nothing paid. */
  | 'refused'
  /** The wallet failed to pay (see `cause`, a WalletError). */
  | 'payment_failed'
  /** The wallet timed out: the payment may or may not have gone through. It will not be paid again here. */
  | 'payment_unknown'
  /** The wallet returned a preimage that does not hash to the payment hash. Nothing cached. */
  | 'bad_preimage'
  /** No offered option passed invoice sanity: malformed, expired, zero-amount, wrong network, amounts or hashes differ (`cause` has the core code). */
  | 'invalid_challenge'
  /** The server asked for payment again right after we paid (or rejected the fresh token). No second payment. */
  | 'retry_failed'
  /** A 402 whose offers are none we pay (x402 on another network, a `Payment` session…): see `demand.unsupported`. */
  | 'unsupported_challenge'
  /** This invoice (payment hash) was already paid or attempted once; it is never paid twice. */
  | 'already_paid';

/**
 * The one error type of the toolkit. `cause` carries the underlying L402Error / WalletError (with its own `code`).
 * @example
 * try { await fetchL402(url) } catch (e) {
 *   if (e instanceof L402FetchError && e.code === 'over_limit') alert(`costs ${e.amountSat} sats`);
 * }
 */
export class L402FetchError extends Error {
  readonly code: L402FetchErrorCode;
  /** The request URL. */
  readonly url: string;
  /** Invoice amount in sats, when a challenge was decoded. */
  readonly amountSat: number | null;
  /** The payment hash, when a challenge was decoded. */
  readonly paymentHash: string | null;
  /** For `unsupported_challenge` / `invalid_challenge`: every option and unsupported offer of the 402. */
  readonly demand: PaymentDemand | null;
  /** The last response, when there is one (e.g. the 402 of a failed retry). Its body is unread. */
  readonly response: Response | null;
  constructor(
    code: L402FetchErrorCode,
    message: string,
    details: {
      url: string;
      amountSat?: number | null;
      paymentHash?: string | null;
      demand?: PaymentDemand | null;
      response?: Response | null;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'L402FetchError';
    this.code = code;
    this.url = details.url;
    this.amountSat = details.amountSat ?? null;
    this.paymentHash = details.paymentHash ?? null;
    this.demand = details.demand ?? null;
    this.response = details.response ?? null;
  }
}

/** Narrows an unknown thrown value to an {@link L402FetchError}, optionally of one code. */
export function isL402FetchError(e: unknown, code?: L402FetchErrorCode): e is L402FetchError {
  return e instanceof L402FetchError && (code === undefined || e.code === code);
}
