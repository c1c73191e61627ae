// The `Payment` scheme gate (Lightning charge; the switch between schemes is auth-gate.ts, server/README.md
// "Schemes"). A charge is one-time: its challenge id is an HMAC (key derived from the master secret) over the
// params, so the server keeps no per-challenge state; only redeemed charges are remembered, until they expire.
//   - `Authorization: Payment …` we cannot parse            → 400 malformed_authorization
//   - a charge that fails (forged id, expired, underpriced,
//     wrong preimage, already redeemed)                      → INVALID_CREDENTIAL_STATUS + fresh challenge(s)
//   - a good charge                                          → allowed, with `Payment-Receipt`
import {
  chargePreimageOf,
  decodeChargeRequest,
  decodeInvoice,
  encodeChargeRequest,
  expiresSeconds,
  formatPaymentChallenge,
  formatPaymentReceipt,
  isL402Error,
  type PaymentCredential,
  parsePaymentCredential,
  paymentChallengeId,
  verifyPaymentChallengeId,
  verifyPreimage,
} from '../../src/l402/index.ts';
import type { LightningBackend } from '../lightning/backend.ts';
import type { TokenAuthority } from '../tokens/token-authority.ts';
import type { PaidRouteSpec } from './l402-gate.ts';
import type { ChargeSpender } from './spent-charges.ts';

/** Settings of the charge gate. */
export interface PaymentGateOptions {
  /** HMAC key of challenge ids: {@link paymentChallengeKey}. */
  secret: Uint8Array;
  /** `realm` of every challenge (the service name). */
  realm: string;
  backend: LightningBackend;
  /** Unix milliseconds. */
  now: () => number;
  /** A challenge (and its invoice) is payable this long. */
  invoiceExpirySeconds: number;
  spent: ChargeSpender;
  /** Invoice network named in the request (`regtest`…), when known. */
  network: string | null;
}

/** Why a charge credential was refused. */
export interface ChargeRejection {
  code: 'challenge_invalid' | 'challenge_expired' | 'price_mismatch' | 'bad_preimage' | 'charge_spent';
  message: string;
}

// Token ids are 32 random bytes, so this shorter label can never be one: the key is the master secret's HMAC of a
// name no token shares, and rotates with it.
const KEY_LABEL = new TextEncoder().encode('payment-challenge-id');

/** The challenge-id HMAC key, derived from the master secret through the token authority. */
export function paymentChallengeKey(tokens: TokenAuthority): Uint8Array {
  return tokens.rootKeyFor(KEY_LABEL);
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Creates an invoice and the `WWW-Authenticate: Payment …` line for it. The amount is whole sats (rounded up).
 * Throws `BackendUnavailableError` when the node cannot make an invoice.
 */
export async function chargeChallenge(spec: PaidRouteSpec, o: PaymentGateOptions): Promise<string> {
  const sats = Math.ceil(spec.priceMsat / 1000);
  const invoice = await o.backend.createInvoice(sats * 1000, spec.memo, o.invoiceExpirySeconds);
  const request = encodeChargeRequest({
    amount: String(sats),
    currency: 'sat',
    description: spec.memo,
    methodDetails: {
      invoice: invoice.paymentRequest,
      paymentHash: invoice.paymentHash,
      ...(o.network ? { network: o.network } : {}),
    },
  });
  const params = {
    realm: o.realm,
    method: 'lightning',
    intent: 'charge',
    request,
    expires: rfc3339(o.now() + o.invoiceExpirySeconds * 1000),
  };
  return formatPaymentChallenge({ id: paymentChallengeId(o.secret, params), ...params });
}

/** The verdict on a `Payment` credential. */
export type ChargeVerdict =
  | { kind: 'allowed'; paymentHash: string; receipt: string }
  | { kind: 'rejected'; rejection: ChargeRejection }
  | { kind: 'malformed'; message: string };

/** Checks a charge credential against this route's price and redeems it (once). */
export async function checkCharge(header: string, spec: PaidRouteSpec, o: PaymentGateOptions): Promise<ChargeVerdict> {
  let cred: PaymentCredential;
  try {
    cred = parsePaymentCredential(header);
  } catch (e) {
    return { kind: 'malformed', message: isL402Error(e) ? e.message : 'unreadable credential' };
  }
  const reject = (code: ChargeRejection['code'], message: string): ChargeVerdict => ({
    kind: 'rejected',
    rejection: { code, message },
  });
  const c = cred.challenge;
  if (
    c.method !== 'lightning' ||
    c.intent !== 'charge' ||
    c.realm !== o.realm ||
    !c.expires ||
    !verifyPaymentChallengeId(o.secret, c)
  ) {
    return reject('challenge_invalid', 'this challenge was not issued here, or was altered');
  }
  let until: number;
  let hash: string;
  let amountSat: bigint;
  try {
    until = expiresSeconds(c.expires);
    const request = decodeChargeRequest(c.request);
    hash = decodeInvoice(request.methodDetails.invoice).paymentHash;
    amountSat = BigInt(request.amount);
  } catch (e) {
    // Our HMAC vouches for these params, so this is a server bug or a changed key: refuse, never allow.
    return reject('challenge_invalid', isL402Error(e) ? e.message : 'unreadable challenge');
  }
  const nowMs = o.now();
  if (until * 1000 <= nowMs) return reject('challenge_expired', `the challenge expired at ${c.expires}`);
  if (amountSat * 1000n < BigInt(spec.priceMsat))
    return reject('price_mismatch', `a charge of ${amountSat} sat does not pay for this request`);
  let preimage: string;
  try {
    preimage = chargePreimageOf(cred);
  } catch (e) {
    return reject('bad_preimage', isL402Error(e) ? e.message : 'no preimage');
  }
  if (!verifyPreimage(preimage, hash)) return reject('bad_preimage', 'the preimage does not pay this charge');
  // Last, and only for a credential that pays this request: spending is the one step with a side effect.
  if (!(await o.spent.spend(hash, until)))
    return reject('charge_spent', 'this charge was already redeemed; a charge pays for one request');
  const receipt = formatPaymentReceipt({
    status: 'success',
    method: 'lightning',
    timestamp: rfc3339(nowMs),
    reference: hash,
    challengeId: c.id,
  });
  return { kind: 'allowed', paymentHash: hash, receipt };
}
