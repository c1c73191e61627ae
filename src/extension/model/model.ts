// The extension's data model: what is kept in storage and shown by the UI. Amounts are msat
// internally (docs/design.md#rules-semantics); the UI shows sats.

/** Renewal period of a site budget; calendar periods in the user's local time zone. */
export type Period = 'daily' | 'weekly' | 'monthly' | 'never';

/**
 * A per-site rule: what a site the user visits may spend. `pattern` is an origin (`https://app.example.com`) or a
 * registrable domain wildcard (`*.example.com`), matched against the INITIATOR of a payment (the page that caused
 * it; for a top-level navigation the service itself), never against the service a page calls (docs/design.md#rules-semantics).
 */
export interface SiteRule {
  pattern: string;
  /** Budget per period, msat (amount + fees count against it). */
  budgetMsat: number;
  period: Period;
  /** Pay silently inside the budget; otherwise ask every time. */
  autoPay: boolean;
}

/** The user's allowance rules. */
export interface Rules {
  /** Global switch: off means never pay and never prompt. */
  enabled: boolean;
  /** Largest single payment (amount + max fee), msat; null = no cap. */
  perPaymentCapMsat: number | null;
  /** Global daily cap over all sites, msat; null = no cap. */
  dailyCapMsat: number | null;
  sites: SiteRule[];
  /**
   * Pay for sites (initiators) that have no rule of their own silently while within the per-payment cap and the daily cap
   * (false: such sites always ask). Needs both caps set (settings validation refuses it otherwise).
   */
  autoPayUnlisted: boolean;
  /** Patterns never paid (checked first). */
  deny: string[];
  /** Max routing fee reserved per payment: max(feeFloorMsat, feePercent % of amount). */
  maxFeePercent: number;
  feeFloorMsat: number;
}

/** Which wallet pays. NWC URI is a secret: it never leaves extension storage. */
export type WalletConfig = { kind: 'nwc'; uri: string } | { kind: 'webln' } | { kind: 'none' };

/** Whether the extension offers `window.webln` to pages. */
export type WeblnInjection = 'off' | 'when-absent' | 'always';

export interface Settings {
  wallet: WalletConfig;
  rules: Rules;
  webln: WeblnInjection;
  /** First-run onboarding finished. */
  onboarded: boolean;
}

export const DEFAULT_RULES: Rules = {
  enabled: true,
  perPaymentCapMsat: 100_000,
  dailyCapMsat: 1_000_000,
  sites: [],
  autoPayUnlisted: false,
  deny: [],
  maxFeePercent: 1,
  feeFloorMsat: 10_000,
};

export const DEFAULT_SETTINGS: Settings = {
  wallet: { kind: 'none' },
  rules: DEFAULT_RULES,
  webln: 'when-absent',
  onboarded: false,
};

/** State of a payment in the ledger. `unknown` = outcome not yet known (a timeout): never treated as failed. */
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'unknown';

/** One ledger entry. The preimage is the proof of payment. */
export interface PaymentRecord {
  paymentHash: string;
  /** Service origin the payment was for (for WebLN sendPayment: the page origin). */
  origin: string;
  /** Page origin that caused it (tab's origin): the site whose budget it counts against. */
  initiator: string;
  url: string;
  /** How it was paid: an L402 token, a one-time `Payment` charge or x402 Lightning payment, or a WebLN call. */
  kind: 'l402' | 'payment' | 'x402' | 'webln';
  invoice: string;
  amountMsat: number;
  /** Reserved max fee. */
  maxFeeMsat: number;
  /** Fee actually paid, once known. */
  feeMsat: number | null;
  memo: string | null;
  status: PaymentStatus;
  preimage: string | null;
  /** Macaroon for L402 payments (so a recovered preimage still yields a token). */
  macaroon: string | null;
  error: string | null;
  createdAt: number;
  settledAt: number | null;
  walletKind: 'nwc' | 'webln';
}

/** How the UI names a payment's scheme (ledger, popup, prompt). */
export const SCHEME_NAMES: Readonly<Record<PaymentRecord['kind'], string>> = {
  l402: 'L402 token',
  payment: 'Payment charge',
  x402: 'x402 Lightning',
  webln: 'WebLN',
};

/** What a 402 met in a tab offered (badge and popup): a payable scheme, or `other` (no demand we read). */
export type ChallengeScheme = 'l402' | 'payment' | 'x402' | 'other';

/** How the badge's tooltip and the popup name what the 402s of a tab asked for. */
const CHALLENGE_SCHEME_NAMES: Readonly<Record<ChallengeScheme, string>> = {
  l402: 'L402 (token)',
  payment: 'Payment (one-time charge)',
  x402: 'x402 (one-time charge)',
  other: 'other 402',
};

/**
 * The per-scheme counts as text, in a fixed order.
 * @example challengeBreakdown({ l402: 2, payment: 1 }) // '2 × L402 (token), 1 × Payment (one-time charge)'
 */
export function challengeBreakdown(bySchemes: Readonly<Partial<Record<ChallengeScheme, number>>>): string {
  return (Object.keys(CHALLENGE_SCHEME_NAMES) as ChallengeScheme[])
    .filter((s) => (bySchemes[s] ?? 0) > 0)
    .map((s) => `${bySchemes[s]} × ${CHALLENGE_SCHEME_NAMES[s]}`)
    .join(', ');
}

/** A stored L402 token: one payment serves many calls of the same service. */
export interface StoredToken {
  paymentHash: string;
  /** Service origin (scheme + host + port). */
  origin: string;
  /** Requests whose path starts with this get the token. */
  pathPrefix: string;
  macaroon: string;
  preimage: string;
  /** Unix ms; null = no expiry caveat. */
  validUntil: number | null;
  createdAt: number;
  /** Page origins allowed to see the header value (those that paid for it); the service origin itself always may. */
  grantedTo: string[];
  /** Unix ms a page first had it attached to a later request (it served beyond the retry it was bought for). */
  reusedAt?: number;
}

/** A question to the user (prompt window). */
export interface PromptRequest {
  id: string;
  /** 'l402' sells a reusable token; 'payment' and 'x402' are one-time charges for one request. */
  kind: 'l402' | 'payment' | 'x402' | 'webln-payment' | 'webln-enable';
  /** The service to be paid (WebLN: the page itself); `initiator` is the page that asks. */
  origin: string;
  initiator: string;
  url: string;
  amountMsat: number;
  maxFeeMsat: number;
  memo: string | null;
  /** Why we ask, in words ("no rule for this site", "over this site's daily budget: 120 of 100 sats"). */
  reason: string;
  /** What is left of the initiator site's budget (null: it has no rule) and of the daily cap (null: no cap), msat. */
  siteRemainingMsat: number | null;
  dailyRemainingMsat: number | null;
  expiresAt: number;
}

export type PromptAnswer =
  | { choice: 'approve-once' }
  | { choice: 'approve-and-budget'; budgetMsat: number; period: Period }
  | { choice: 'deny' };

/** Every budget renewal period. */
export const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly', 'never'];

/** Is this a well-formed answer (the prompt page is trusted, but storage and messages are still checked)? */
export function isPromptAnswer(a: unknown): a is PromptAnswer {
  if (!a || typeof a !== 'object') return false;
  const x = a as { choice?: unknown; budgetMsat?: unknown; period?: unknown };
  if (x.choice === 'approve-once' || x.choice === 'deny') return true;
  return (
    x.choice === 'approve-and-budget' &&
    typeof x.budgetMsat === 'number' &&
    Number.isSafeInteger(x.budgetMsat) &&
    x.budgetMsat >= 0 &&
    PERIODS.includes(x.period as Period)
  );
}

/** The rule "approve and set a budget" and the popup's auto-pay switch start from when no rule exists yet. */
export const DEFAULT_SITE_BUDGET: Pick<SiteRule, 'budgetMsat' | 'period'> = { budgetMsat: 100_000, period: 'daily' };
