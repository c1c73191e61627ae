// BOLT11 decoding with light-bolt11-decoder (decode only, small: fine in the extension and pages).
import { decode } from 'light-bolt11-decoder';
import { L402Error } from './errors.ts';

/** Bitcoin networks a BOLT11 prefix can name. */
export type Network = 'mainnet' | 'testnet' | 'signet' | 'regtest' | 'simnet';

const PREFIX_NETWORK: Record<string, Network> = {
  bc: 'mainnet',
  tb: 'testnet',
  tbs: 'signet',
  bcrt: 'regtest',
  sb: 'simnet',
};

/** What a payer needs to know about an invoice. */
export interface DecodedInvoice {
  paymentRequest: string;
  network: Network;
  /** Amount in millisatoshi; null for a zero-amount ("any amount") invoice. */
  amountMsat: number | null;
  /** 64 lowercase hex. */
  paymentHash: string;
  description: string | null;
  /** Creation time, unix seconds. */
  timestamp: number;
  expirySeconds: number;
  /** timestamp + expirySeconds. */
  expiresAt: number;
}

/**
 * Decodes a BOLT11 payment request. Throws `bad_invoice`.
 * @example decodeInvoice('lnbcrt10u1p…').amountMsat // 1_000_000
 */
export function decodeInvoice(paymentRequest: string): DecodedInvoice {
  if (typeof paymentRequest !== 'string' || paymentRequest.length > 7089 || !/^ln[a-z0-9]+$/i.test(paymentRequest)) {
    throw new L402Error('bad_invoice', 'not a BOLT11 payment request');
  }
  let raw: ReturnType<typeof decode>;
  try {
    raw = decode(paymentRequest.toLowerCase());
  } catch (e) {
    throw new L402Error('bad_invoice', `cannot decode invoice: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  let network: Network | undefined;
  let amountMsat: number | null = null;
  let paymentHash = '';
  let description: string | null = null;
  let timestamp = 0;
  for (const s of raw.sections) {
    if (s.name === 'coin_network') network = s.value ? PREFIX_NETWORK[s.value.bech32] : undefined;
    else if (s.name === 'amount') amountMsat = Number(s.value);
    else if (s.name === 'payment_hash') paymentHash = s.value;
    else if (s.name === 'description') description = s.value;
    else if (s.name === 'timestamp') timestamp = s.value;
  }
  if (!network) throw new L402Error('bad_invoice', 'unknown invoice network prefix');
  if (!/^[0-9a-f]{64}$/.test(paymentHash)) throw new L402Error('bad_invoice', 'invoice has no payment hash');
  if (amountMsat !== null && (!Number.isSafeInteger(amountMsat) || amountMsat < 0)) {
    throw new L402Error('bad_invoice', 'invoice amount out of range');
  }
  const expirySeconds = raw.expiry ?? 3600;
  return {
    paymentRequest,
    network,
    amountMsat: amountMsat === 0 ? null : amountMsat,
    paymentHash,
    description,
    timestamp,
    expirySeconds,
    expiresAt: timestamp + expirySeconds,
  };
}

/** What a payer insists on before paying. */
export interface PayableChecks {
  /** Unix seconds. */
  now: number;
  /** Networks the wallet is on; an invoice for another network is refused. */
  networks?: readonly Network[];
  /** The payment hash the invoice must carry (from the macaroon identifier). */
  paymentHash?: string;
  /** Seconds of headroom: an invoice expiring sooner than this counts as expired. */
  expiryMarginSeconds?: number;
}

/**
 * Throws unless the invoice is safe to pay: `amount_missing`, `invoice_expired`, `wrong_network`, `hash_mismatch`.
 * Returns the invoice with its amount known.
 * @example assertPayable(inv, { now: Date.now() / 1000, networks: ['regtest'], paymentHash: mac.paymentHash })
 */
export function assertPayable(inv: DecodedInvoice, checks: PayableChecks): DecodedInvoice & { amountMsat: number } {
  if (checks.paymentHash !== undefined && checks.paymentHash.toLowerCase() !== inv.paymentHash) {
    throw new L402Error('hash_mismatch', "the invoice's payment hash differs from the macaroon's");
  }
  if (checks.networks && !checks.networks.includes(inv.network)) {
    throw new L402Error('wrong_network', `invoice is for ${inv.network}, wallet is on ${checks.networks.join('/')}`);
  }
  if (inv.amountMsat === null) throw new L402Error('amount_missing', 'zero-amount invoices are refused');
  if (checks.now + (checks.expiryMarginSeconds ?? 0) >= inv.expiresAt) {
    throw new L402Error('invoice_expired', `invoice expired at ${new Date(inv.expiresAt * 1000).toISOString()}`);
  }
  return inv as DecodedInvoice & { amountMsat: number };
}
