// The background's one error type: every refusal or failure the plumbing passes on to the page and the UI
// carries a `code` and a message in words (docs/design.md#rules-semantics: any "no" is explained).
import type { L402ErrorCode } from '../../l402/index.ts';

export type AutopilotErrorCode =
  /** Global switch off, deny list, or rules forbid it. */
  | 'denied'
  /** The user said no, or did not answer in time. */
  | 'rejected_by_user'
  /** Outside the budget and no way to ask. */
  | 'over_budget'
  /** No wallet configured. */
  | 'no_wallet'
  /** The wallet cannot be reached (nothing was paid). */
  | 'wallet_unavailable'
  | 'insufficient_balance'
  /** The wallet says the payment failed (nothing was paid, budget released). */
  | 'payment_failed'
  /** Outcome unknown (timeout): the money stays reserved until the wallet tells. */
  | 'payment_unknown'
  /** The wallet returned a preimage that does not match the payment hash. */
  | 'bad_preimage'
  /** The 402's challenge is broken or unsafe (`coreCode` says how). */
  | 'invalid_challenge'
  /** A 402 we recognise but cannot pay (x402, Payment scheme). */
  | 'unsupported_challenge'
  /** The service rejected a fresh token: not paying again. */
  | 'loop_guard'
  /** The token on sale could not authorize the request that got the challenge (expired, or scoped elsewhere). */
  | 'unusable_token'
  /** A cross-origin request whose response the page could never read (no CORS for it): a payment would buy nothing. */
  | 'unreadable_response'
  /** WebLN: the site has not been enabled by the user. */
  | 'not_enabled'
  /** WebLN: the wallet cannot do this (NWC NOT_IMPLEMENTED, or not in get_info's methods). */
  | 'unsupported'
  /** WebLN: the page's arguments are not usable (bad amount, no hash). */
  | 'invalid_request'
  /** WebLN: the wallet answered a non-payment call with an error (e.g. invoice not found). */
  | 'wallet_error';

export class AutopilotError extends Error {
  readonly code: AutopilotErrorCode;
  /** The protocol core's code for `invalid_challenge`. */
  readonly coreCode: L402ErrorCode | null;
  constructor(code: AutopilotErrorCode, message: string, options?: { cause?: unknown; coreCode?: L402ErrorCode }) {
    super(message, options);
    this.name = 'AutopilotError';
    this.code = code;
    this.coreCode = options?.coreCode ?? null;
  }
}

export function isAutopilotError(e: unknown, code?: AutopilotErrorCode): e is AutopilotError {
  return e instanceof AutopilotError && (code === undefined || e.code === code);
}
