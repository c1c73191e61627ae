// The small surface a Lightning backend must offer for the NWC wallet service to sit in
// front of it. Amounts are millisatoshis; hashes and preimages are lowercase hex; times
// are unix seconds. Implementations: lnd over REST (lnd-lightning-node.ts), later a dev node.

type LightningNodeErrorCode =
  /** Not enough outbound liquidity / no route for lack of it. → NIP-47 INSUFFICIENT_BALANCE */
  | 'INSUFFICIENT_BALANCE'
  /** Unknown invoice or payment. → NOT_FOUND */
  | 'NOT_FOUND'
  /** The payment was tried and failed for another reason (no route, timeout, …). → OTHER */
  | 'PAYMENT_FAILED'
  /** The node could not be reached or is not ready. → INTERNAL */
  | 'UNAVAILABLE'
  /** The request itself is invalid (bad public key, TLV record, …). → OTHER */
  | 'INVALID'
  /** Anything else. → INTERNAL */
  | 'INTERNAL';

export class LightningNodeError extends Error {
  readonly code: LightningNodeErrorCode;
  constructor(code: LightningNodeErrorCode, message: string) {
    super(message);
    this.name = 'LightningNodeError';
    this.code = code;
  }
}

export interface NodeInfo {
  alias: string;
  pubkey: string;
  /** e.g. "regtest", "mainnet" */
  network: string;
  blockHeight: number;
  blockHash: string;
}

export interface PaidInvoice {
  preimageHex: string;
  feesPaidMsat: number;
  paymentHashHex: string;
}

export interface LightningTransaction {
  type: 'incoming' | 'outgoing';
  state: 'settled' | 'pending' | 'failed' | 'accepted';
  invoice: string;
  description: string;
  paymentHashHex: string;
  preimageHex: string | null;
  amountMsat: number;
  feesPaidMsat: number;
  createdAt: number;
  settledAt: number | null;
  expiresAt: number | null;
}

export interface LightningNode {
  getInfo(): Promise<NodeInfo>;
  /** Spendable balance (lnd: local channel balance). */
  getBalance(): Promise<{ balanceMsat: number }>;
  /**
   * Pays and resolves only on success. Throws LightningNodeError: INSUFFICIENT_BALANCE when the
   * node lacks outbound liquidity, PAYMENT_FAILED for other definitive failures.
   */
  payInvoice(a: { invoice: string; amountMsat?: number; feeLimitMsat: number }): Promise<PaidInvoice>;
  makeInvoice(a: { amountMsat: number; description?: string; expirySeconds?: number }): Promise<LightningTransaction>;
  /** Incoming invoice or outgoing payment by hash; NOT_FOUND when the node knows neither. */
  lookupInvoice(paymentHashHex: string): Promise<LightningTransaction>;
  /** Newest first, at most `limit` of each kind; the service filters and paginates. */
  listTransactions(a: { limit: number }): Promise<LightningTransaction[]>;
  /**
   * Optional: a spontaneous payment to `destinationHex` revealing `preimageHex` (keysend). Same errors as
   * payInvoice. Nodes without it do not offer NIP-47 `pay_keysend`.
   */
  payKeysend?(a: {
    destinationHex: string;
    amountMsat: number;
    preimageHex: string;
    /** TLV type → hex value. */
    customRecords: Record<string, string>;
    feeLimitMsat: number;
  }): Promise<PaidInvoice>;
  /** Optional: signs a UTF-8 message with the node key (lnd's zbase32 format). Without it, no `sign_message`. */
  signMessage?(message: string): Promise<{ signature: string }>;
}
