// One Wallet interface for everything that pays: the extension's NWC connection, a page's WebLN
// provider, the toolkit's callers. Amounts are msat; preimages and hashes lowercase hex.

/** What paying returned. The caller verifies sha256(preimage) == payment hash. */
export interface PaymentResult {
  preimage: string;
  /** Routing fee actually paid, when the wallet says. */
  feeMsat: number | null;
}

/** A payment's state as the wallet knows it (for resuming after a timeout or restart). */
export type PaymentLookup =
  | { state: 'succeeded'; preimage: string; feeMsat: number | null }
  | { state: 'pending' }
  | { state: 'failed'; reason: string }
  | { state: 'unknown' };

export interface WalletInfo {
  alias: string | null;
  pubkey: string | null;
  network: string | null;
  methods: string[];
}

/** Why a wallet call failed. `timeout` means the outcome is UNKNOWN (maybe paid): look it up, never re-pay blindly. */
export type WalletErrorCode =
  | 'timeout'
  | 'unreachable'
  | 'rejected'
  | 'insufficient_balance'
  | 'quota_exceeded'
  | 'payment_failed'
  | 'unsupported'
  | 'unauthorized'
  | 'internal';

export class WalletError extends Error {
  readonly code: WalletErrorCode;
  constructor(code: WalletErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WalletError';
    this.code = code;
  }
}

export interface Wallet {
  /** Pays a BOLT11 invoice. Rejects with WalletError. */
  payInvoice(paymentRequest: string, options?: { maxFeeMsat?: number }): Promise<PaymentResult>;
  /** Optional capabilities: a missing method means unsupported. */
  lookupPayment?(paymentHash: string): Promise<PaymentLookup>;
  getInfo?(): Promise<WalletInfo>;
  getBalance?(): Promise<{ balanceMsat: number }>;
  makeInvoice?(a: { amountMsat: number; description?: string }): Promise<{ paymentRequest: string; paymentHash: string }>;
  close?(): void;
}
