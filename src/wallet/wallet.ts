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

/** An invoice (or payment) as the wallet knows it, for WebLN `lookupInvoice`. */
export interface InvoiceLookup {
  /** `incoming`: an invoice this wallet made; `outgoing`: a payment it made; null when the wallet does not say. */
  type: 'incoming' | 'outgoing' | null;
  paymentRequest: string;
  paymentHash: string;
  paid: boolean;
  /** Known only once paid. */
  preimage: string | null;
  amountMsat: number | null;
}

/** A keysend (spontaneous payment to a node pubkey). The caller picks the preimage, so it knows the hash before paying. */
export interface KeysendRequest {
  /** Destination node pubkey, 33-byte compressed, hex. */
  destination: string;
  amountMsat: number;
  /** 32 bytes hex; sha256 of it is the payment hash. */
  preimage: string;
  /** TLV records: type (decimal string) → value as UTF-8 text (WebLN convention). */
  customRecords?: Record<string, string>;
}

export interface Wallet {
  /** Pays a BOLT11 invoice. Rejects with WalletError. */
  payInvoice(paymentRequest: string, options?: { maxFeeMsat?: number }): Promise<PaymentResult>;
  /** Optional capabilities: a missing method means unsupported. */
  lookupPayment?(paymentHash: string): Promise<PaymentLookup>;
  getInfo?(): Promise<WalletInfo>;
  getBalance?(): Promise<{ balanceMsat: number }>;
  makeInvoice?(a: {
    amountMsat: number;
    description?: string;
  }): Promise<{ paymentRequest: string; paymentHash: string }>;
  /** Looks an invoice or payment up by hash. Rejects with WalletError (`unsupported` when the wallet cannot). */
  lookupInvoice?(paymentHash: string): Promise<InvoiceLookup>;
  /** Pays a node directly. Rejects with WalletError (`unsupported` when the wallet cannot; `timeout` = outcome unknown). */
  keysend?(request: KeysendRequest): Promise<PaymentResult>;
  /** Signs a message with the node key. Rejects with WalletError (`unsupported` when the wallet cannot). */
  signMessage?(message: string): Promise<{ message: string; signature: string }>;
  /**
   * Whether an optional method will work, when the wallet can tell before trying (NWC: get_info's methods). Lets a
   * caller refuse early — before reserving a budget for a keysend the wallet cannot make. Absent: assume it does.
   */
  supports?(method: 'lookupInvoice' | 'keysend' | 'signMessage'): Promise<boolean>;
  close?(): void;
}
