// The `Payment` scheme gate (Lightning charge) and the scheme switch in front of the L402 gate (server/README.md
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
  isPaymentAuthorization,
  type PaymentCredential,
  parsePaymentCredential,
  paymentChallengeId,
  verifyPaymentChallengeId,
  verifyPreimage,
} from '../../src/l402/index.ts';
import { BackendUnavailableError, type LightningBackend } from '../lightning/backend.ts';
import type { TokenAuthority } from '../tokens/token-authority.ts';
import { checkL402, errorBody, type L402GateOptions, type PaidRouteSpec, rateLimited } from './l402-gate.ts';
import { StoreUnavailableError } from '../tokens/shared-store.ts';
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

/** Which schemes the gate serves and how it answers a refused credential. */
export interface AuthGateOptions {
  schemes: readonly ('l402' | 'payment')[];
  /** 401 (bLIP-0026) or 402 for a well-formed credential that fails. */
  invalidCredentialStatus: number;
  l402: L402GateOptions;
  payment: PaymentGateOptions;
}

/** The switch's verdict: run the route (adding `headers` to its response), or answer with `response`. */
export type AuthResult =
  | { kind: 'allowed'; scheme: 'l402' | 'payment'; tokenId: string; headers: Record<string, string> }
  | { kind: 'denied'; response: Response; status: number; rejected: { code: string; message: string } | null };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function unavailable(e: unknown, rejected: { code: string; message: string } | null): AuthResult {
  const retry = e instanceof BackendUnavailableError ? e.retryAfterSeconds : 5;
  const body = errorBody('backend_unavailable', 'the Lightning node is unavailable; try again shortly');
  return {
    kind: 'denied',
    status: 503,
    rejected,
    response: new Response(JSON.stringify(body), {
      status: 503,
      headers: { ...JSON_HEADERS, 'retry-after': String(retry) },
    }),
  };
}

/** A Payment-only 402 (AUTH_SCHEMES=payment). */
async function chargeOnly(
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  rejected: ChargeRejection | null,
  client: string,
): Promise<AuthResult> {
  // Minting a charge costs an invoice like an L402 challenge does: the same per-client limit applies.
  const wait = o.l402.mintLimit?.take(client) ?? 0;
  if (wait > 0) {
    const r = rateLimited(wait, null);
    return { kind: 'denied', status: r.status, rejected, response: r.response };
  }
  let line: string;
  try {
    line = await chargeChallenge(spec, o.payment);
  } catch (e) {
    return unavailable(e, rejected);
  }
  const status = rejected ? o.invalidCredentialStatus : 402;
  const message = rejected
    ? `credential rejected (${rejected.code}): ${rejected.message}; pay the new charge`
    : 'payment required: pay the invoice in the Payment challenge, then retry with "Authorization: Payment <credential>"';
  const body = {
    ...errorBody('payment_required', message),
    ...(rejected ? { rejected } : {}),
    service: o.payment.realm,
    capability: spec.capability,
    price_msat: spec.priceMsat,
    price_sat: Math.ceil(spec.priceMsat / 1000),
    ...spec.details,
  };
  const headers = new Headers(JSON_HEADERS);
  headers.append('www-authenticate', line);
  return { kind: 'denied', status, rejected, response: new Response(JSON.stringify(body), { status, headers }) };
}

/** Re-issues an L402 denial with the Payment line added and the configured status for a refused credential. */
async function augment(
  r: Extract<AuthResult, { kind: 'denied' }>,
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  rejected: { code: string; message: string } | null,
): Promise<AuthResult> {
  if (r.status !== 402) return r;
  // L402 only and the default status: the L402 gate's answer as it is (no copy on the hot 402 path).
  if (!o.schemes.includes('payment') && (!rejected || o.invalidCredentialStatus === 402)) return r;
  const headers = new Headers(r.response.headers);
  if (o.schemes.includes('payment')) {
    try {
      headers.append('www-authenticate', await chargeChallenge(spec, o.payment));
    } catch (e) {
      await r.response.body?.cancel();
      return unavailable(e, rejected);
    }
  }
  const status = rejected ? o.invalidCredentialStatus : 402;
  // The L402 gate's body already names its own rejection; a refused charge is added to it.
  const body = JSON.parse(await r.response.text()) as Record<string, unknown>;
  if (rejected && !('rejected' in body)) body.rejected = rejected;
  return { kind: 'denied', status, rejected, response: new Response(JSON.stringify(body), { status, headers }) };
}

/**
 * The one entry point for a paid route: a `Payment` credential goes to the charge gate, anything else to the L402
 * gate, as `schemes` allow; every 402 offers each configured scheme (one header line each).
 * @example const r = await checkPaid(req, spec, auth); if (r.kind === 'denied') return r.response;
 */
export async function checkPaid(
  request: Request,
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  client = '',
): Promise<AuthResult> {
  const header = request.headers.get('authorization');
  if (o.schemes.includes('payment') && header && isPaymentAuthorization(header)) {
    let v: ChargeVerdict;
    try {
      v = await checkCharge(header, spec, o.payment);
    } catch (e) {
      // The shared store of spent charges is down: never redeem a charge we cannot record (docs in server/README.md).
      if (e instanceof StoreUnavailableError) return unavailable(e, null);
      throw e;
    }
    if (v.kind === 'allowed')
      return { kind: 'allowed', scheme: 'payment', tokenId: v.paymentHash, headers: { 'payment-receipt': v.receipt } };
    if (v.kind === 'malformed') {
      const body = errorBody(
        'malformed_authorization',
        `Authorization header is not a valid Payment credential: ${v.message}`,
      );
      return {
        kind: 'denied',
        status: 400,
        rejected: null,
        response: new Response(JSON.stringify(body), { status: 400, headers: JSON_HEADERS }),
      };
    }
    if (!o.schemes.includes('l402')) return chargeOnly(spec, o, v.rejection, client);
    // A bare request to the L402 gate yields the L402 challenge; the charge line and the rejection are added.
    const fresh = await checkL402(new Request(request.url, { method: 'HEAD' }), spec, o.l402, client);
    if (fresh.kind === 'allowed') throw new Error('the L402 gate allowed a request without a credential');
    return augment(fresh, spec, o, v.rejection);
  }
  if (!o.schemes.includes('l402')) return chargeOnly(spec, o, null, client);
  const r = await checkL402(request, spec, o.l402, client);
  if (r.kind === 'allowed') return { kind: 'allowed', scheme: 'l402', tokenId: r.token.tokenId, headers: {} };
  return augment(r, spec, o, r.rejected);
}
