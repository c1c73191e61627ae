// The x402 gate: x402 v2's Lightning `exact` offer and its verification
// (https://github.com/coinbase/x402/blob/main/specs/schemes/exact/scheme_exact_lightning.md; server/README.md
// "Schemes"). A 402 carries `PAYMENT-REQUIRED` (base64 JSON) with one `accepts` entry whose `extra.invoice` is a fresh
// BOLT11 invoice; the client pays it and retries with `PAYMENT-SIGNATURE` (base64 JSON naming the paid invoice, no
// preimage). The offer is bound statelessly: `extra.offerId` is an HMAC (key derived from the master secret) of the
// invoice, so an invoice issued for an L402 token or by anyone else is never taken as an x402 charge. Whether it was
// paid is asked of the node; a charge is one-time, so the payment hash goes into the spent-charge store.
//   - a `PAYMENT-SIGNATURE` we cannot parse                 → 400 malformed_payment_signature
//   - one that fails (forged offer, other network, expired,
//     underpriced, unpaid, already redeemed)                → INVALID_CREDENTIAL_STATUS + fresh offer(s)
//   - a good one                                            → allowed, with `PAYMENT-RESPONSE`
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  BIP122_NETWORKS,
  base64UrlDecode,
  base64UrlEncode,
  bytesToBase64,
  decodeInvoice,
  isL402Error,
  parseX402PaymentSignature,
  timingSafeEqual,
  type X402PaymentPayload,
  type X402PaymentRequired,
  type X402Requirements,
} from '../../src/l402/index.ts';
import { InvoiceNotFoundError, type LightningBackend } from '../lightning/backend.ts';
import type { TokenAuthority } from '../tokens/token-authority.ts';
import type { PaidRouteSpec } from './l402-gate.ts';
import type { ChargeSpender } from './spent-charges.ts';

/** Settings of the x402 gate. */
export interface X402GateOptions {
  /** HMAC key of offer ids: {@link x402OfferKey}. */
  secret: Uint8Array;
  backend: LightningBackend;
  /** Unix milliseconds. */
  now: () => number;
  /** An offer (and its invoice) is payable this long. */
  invoiceExpirySeconds: number;
  spent: ChargeSpender;
  /** CAIP-2 id of the backend's chain, e.g. `bip122:0f9188f13cb7b2c71f2a335e3a4fc328` (regtest). */
  network: string;
}

/** Why an x402 credential was refused. */
export interface X402Rejection {
  code:
    | 'offer_invalid'
    | 'wrong_network'
    | 'offer_expired'
    | 'price_mismatch'
    | 'charge_unpaid'
    | 'charge_spent'
    | 'unsupported_version';
  message: string;
}

/** The verdict on a `PAYMENT-SIGNATURE`. */
export type X402Verdict =
  | { kind: 'allowed'; paymentHash: string; response: string }
  | { kind: 'rejected'; rejection: X402Rejection }
  | { kind: 'malformed'; message: string };

/** The header of an x402 offer, of a client's credential and of the server's settlement answer. */
export const X402_HEADERS = {
  required: 'PAYMENT-REQUIRED',
  signature: 'PAYMENT-SIGNATURE',
  response: 'PAYMENT-RESPONSE',
} as const;

// A label no token id (32 random bytes) can equal, as for the Payment scheme's challenge-id key.
const KEY_LABEL = new TextEncoder().encode('x402-offer-id');

/** The offer-id HMAC key, derived from the master secret through the token authority. */
export function x402OfferKey(tokens: TokenAuthority): Uint8Array {
  return tokens.rootKeyFor(KEY_LABEL);
}

/** The CAIP-2 id of a backend network name (`regtest` → `bip122:0f91…`); null when it has none (simnet). */
export function caip2Network(network: string | null): string | null {
  if (!network) return null;
  for (const [id, name] of Object.entries(BIP122_NETWORKS)) if (name === network) return id;
  return null;
}

const offerMac = (secret: Uint8Array, invoice: string) =>
  hmac(sha256, secret, new TextEncoder().encode(`x402 exact lightning\n${invoice}`));

const encodeJson = (v: unknown) => bytesToBase64(new TextEncoder().encode(JSON.stringify(v)));

/**
 * Creates an invoice and the `PAYMENT-REQUIRED` value offering it. The amount is whole sats (rounded up), written in
 * msat as the spec asks. `resourceUrl` is named without its query, so the echo a client sends stays small.
 * Throws `BackendUnavailableError` when the node cannot make an invoice.
 */
export async function x402Offer(
  spec: PaidRouteSpec,
  o: X402GateOptions,
  resourceUrl: string,
  error?: string,
): Promise<string> {
  const msat = Math.ceil(spec.priceMsat / 1000) * 1000;
  const invoice = await o.backend.createInvoice(msat, spec.memo, o.invoiceExpirySeconds);
  const url = new URL(resourceUrl);
  const accepts: X402Requirements = {
    scheme: 'exact',
    network: o.network,
    amount: String(msat),
    asset: 'BTC',
    payTo: 'anonymous',
    maxTimeoutSeconds: o.invoiceExpirySeconds,
    extra: {
      paymentMethod: 'lightning',
      invoice: invoice.paymentRequest,
      offerId: base64UrlEncode(offerMac(o.secret, invoice.paymentRequest)),
    },
  };
  const required: X402PaymentRequired = {
    x402Version: 2,
    ...(error ? { error } : {}),
    resource: { url: `${url.origin}${url.pathname}`, description: spec.memo, mimeType: 'application/json' },
    accepts: [accepts],
  };
  return encodeJson(required);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a `PAYMENT-SIGNATURE` against this route's price (the spec's verification steps, in its order) and redeems
 * it once. Throws `BackendUnavailableError` (node down) and the spent store's `StoreUnavailableError`.
 */
export async function checkX402(header: string, spec: PaidRouteSpec, o: X402GateOptions): Promise<X402Verdict> {
  let p: X402PaymentPayload;
  try {
    p = parseX402PaymentSignature(header);
  } catch (e) {
    return { kind: 'malformed', message: isL402Error(e) ? e.message : 'unreadable PAYMENT-SIGNATURE' };
  }
  const reject = (code: X402Rejection['code'], message: string): X402Verdict => ({
    kind: 'rejected',
    rejection: { code, message },
  });
  if (p.x402Version !== 2) return reject('unsupported_version', `x402 version ${p.x402Version} is not served here`);
  const a = p.accepted;
  const extra = isObject(a.extra) ? a.extra : {};
  if (a.scheme !== 'exact' || extra.paymentMethod !== 'lightning' || (p.scheme !== undefined && p.scheme !== a.scheme))
    return reject('offer_invalid', 'only the Lightning exact offer is served here');
  if (a.network !== o.network || (p.network !== undefined && p.network !== a.network))
    return reject('wrong_network', `this server is on ${o.network}`);
  // The spec's step against invoice substitution: what was paid is what was offered.
  const invoice = p.payload.invoice;
  if (invoice !== extra.invoice) return reject('offer_invalid', 'payload.invoice is not the offered invoice');
  const id = typeof extra.offerId === 'string' ? base64UrlDecode(extra.offerId) : null;
  if (!id || !timingSafeEqual(id, offerMac(o.secret, invoice)))
    return reject('offer_invalid', 'this offer was not issued here, or was altered');
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(invoice);
  } catch (e) {
    // Our HMAC vouches for the invoice, so this is a server bug or a changed key: refuse, never allow.
    return reject('offer_invalid', isL402Error(e) ? e.message : 'unreadable invoice');
  }
  const nowMs = o.now();
  if (decoded.expiresAt * 1000 <= nowMs)
    return reject(
      'offer_expired',
      `the offered invoice expired at ${new Date(decoded.expiresAt * 1000).toISOString()}`,
    );
  if (decoded.amountMsat === null || a.amount !== String(decoded.amountMsat))
    return reject('price_mismatch', 'accepted.amount is not the invoice amount');
  if (decoded.amountMsat < spec.priceMsat)
    return reject('price_mismatch', `a charge of ${decoded.amountMsat} msat does not pay for this request`);
  let settled: boolean;
  try {
    const status = await o.backend.lookupInvoice(decoded.paymentHash);
    settled = status.state === 'settled' && status.amountPaidMsat >= decoded.amountMsat;
  } catch (e) {
    if (e instanceof InvoiceNotFoundError) return reject('offer_invalid', 'the node does not know this invoice');
    throw e;
  }
  if (!settled) return reject('charge_unpaid', 'the offered invoice has not been paid');
  // Last, and only for a credential that pays this request: spending is the one step with a side effect.
  if (!(await o.spent.spend(decoded.paymentHash, decoded.expiresAt)))
    return reject('charge_spent', 'this charge was already redeemed; a charge pays for one request');
  const response = encodeJson({
    success: true,
    transaction: invoice,
    network: o.network,
    payer: 'anonymous',
    extra: { invoice, settledAt: Math.floor(nowMs / 1000) },
  });
  return { kind: 'allowed', paymentHash: decoded.paymentHash, response };
}
