// The one entry point for a paid route (server/README.md "Schemes"): a `Payment` credential goes to the charge gate,
// a `PAYMENT-SIGNATURE` to the x402 gate, anything else to the L402 gate, as AUTH_SCHEMES allow; every 402 offers
// each configured scheme (an L402 and a Payment line in WWW-Authenticate, x402 in PAYMENT-REQUIRED).
import { isPaymentAuthorization } from '../../src/l402/index.ts';
import type { AuthScheme } from '../config.ts';
import { BackendUnavailableError } from '../lightning/backend.ts';
import { StoreUnavailableError } from '../tokens/shared-store.ts';
import { checkL402, errorBody, type L402GateOptions, type PaidRouteSpec, rateLimited } from './l402-gate.ts';
import { type ChargeVerdict, chargeChallenge, checkCharge, type PaymentGateOptions } from './payment-gate.ts';
import { checkX402, X402_HEADERS, type X402GateOptions, type X402Verdict, x402Offer } from './x402-gate.ts';

/** Which schemes the gate serves and how it answers a refused credential. */
export interface AuthGateOptions {
  schemes: readonly AuthScheme[];
  /** 401 (bLIP-0026) or 402 for a well-formed credential that fails. */
  invalidCredentialStatus: number;
  l402: L402GateOptions;
  payment: PaymentGateOptions;
  /** Needed when `schemes` has `x402`. */
  x402: X402GateOptions | null;
}

type Rejection = { code: string; message: string };

/** The switch's verdict: run the route (adding `headers` to its response), or answer with `response`. */
export type AuthResult =
  | { kind: 'allowed'; scheme: AuthScheme; tokenId: string; headers: Record<string, string> }
  | { kind: 'denied'; response: Response; status: number; rejected: Rejection | null };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function unavailable(e: unknown, rejected: Rejection | null): AuthResult {
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

function malformed(code: string, message: string): AuthResult {
  return {
    kind: 'denied',
    status: 400,
    rejected: null,
    response: new Response(JSON.stringify(errorBody(code, message)), { status: 400, headers: JSON_HEADERS }),
  };
}

const x402On = (o: AuthGateOptions): X402GateOptions | null => (o.schemes.includes('x402') ? o.x402 : null);

/** Adds the one-time offers configured: the `Payment` line and x402's `PAYMENT-REQUIRED` (each a fresh invoice). */
async function addOneTimeOffers(
  headers: Headers,
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  url: string,
  rejected: Rejection | null,
): Promise<void> {
  if (o.schemes.includes('payment')) headers.append('www-authenticate', await chargeChallenge(spec, o.payment));
  const x = x402On(o);
  if (x) {
    const error = rejected ? `${rejected.code}: ${rejected.message}` : undefined;
    headers.set(X402_HEADERS.required, await x402Offer(spec, x, url, error));
  }
}

/** A 402 without L402 (AUTH_SCHEMES of `payment` and/or `x402` only). */
async function oneTimeOnly(
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  rejected: Rejection | null,
  client: string,
  url: string,
): Promise<AuthResult> {
  // Minting a charge costs an invoice like an L402 challenge does: the same per-client limit applies.
  const wait = o.l402.mintLimit?.take(client) ?? 0;
  if (wait > 0) {
    const r = rateLimited(wait, null);
    return { kind: 'denied', status: r.status, rejected, response: r.response };
  }
  const headers = new Headers(JSON_HEADERS);
  try {
    await addOneTimeOffers(headers, spec, o, url, rejected);
  } catch (e) {
    return unavailable(e, rejected);
  }
  const ways = [
    ...(o.schemes.includes('payment')
      ? ['pay the invoice in the Payment challenge, then retry with "Authorization: Payment <credential>"']
      : []),
    ...(x402On(o) ? ['pay the invoice in PAYMENT-REQUIRED (x402), then retry with PAYMENT-SIGNATURE'] : []),
  ].join('; or ');
  // A 401 must carry a WWW-Authenticate challenge (RFC 9110 §15.5.2): x402 alone has none, so it stays 402.
  const status = rejected && o.schemes.includes('payment') ? o.invalidCredentialStatus : 402;
  const message = rejected
    ? `credential rejected (${rejected.code}): ${rejected.message}; pay the new charge`
    : `payment required: ${ways}`;
  const body = {
    ...errorBody('payment_required', message),
    ...(rejected ? { rejected } : {}),
    service: o.payment.realm,
    capability: spec.capability,
    price_msat: spec.priceMsat,
    price_sat: Math.ceil(spec.priceMsat / 1000),
    ...spec.details,
  };
  return { kind: 'denied', status, rejected, response: new Response(JSON.stringify(body), { status, headers }) };
}

/** Re-issues an L402 denial with the one-time offers added and the configured status for a refused credential. */
async function augment(
  r: Extract<AuthResult, { kind: 'denied' }>,
  spec: PaidRouteSpec,
  o: AuthGateOptions,
  rejected: Rejection | null,
  url: string,
): Promise<AuthResult> {
  if (r.status !== 402) return r;
  // L402 only and the default status: the L402 gate's answer as it is (no copy on the hot 402 path).
  if (o.schemes.length === 1 && (!rejected || o.invalidCredentialStatus === 402)) return r;
  const headers = new Headers(r.response.headers);
  try {
    await addOneTimeOffers(headers, spec, o, url, rejected);
  } catch (e) {
    await r.response.body?.cancel();
    return unavailable(e, rejected);
  }
  const status = rejected ? o.invalidCredentialStatus : 402;
  // The L402 gate's body already names its own rejection; a refused charge is added to it.
  const body = JSON.parse(await r.response.text()) as Record<string, unknown>;
  if (rejected && !('rejected' in body)) body.rejected = rejected;
  return { kind: 'denied', status, rejected, response: new Response(JSON.stringify(body), { status, headers }) };
}

/** A fresh 402 for a one-time credential that was refused: every configured offer, with the rejection. */
async function refused(request: Request, spec: PaidRouteSpec, o: AuthGateOptions, rejected: Rejection, client: string) {
  if (!o.schemes.includes('l402')) return oneTimeOnly(spec, o, rejected, client, request.url);
  // A bare request to the L402 gate yields the L402 challenge; the other offers and the rejection are added.
  const fresh = await checkL402(new Request(request.url, { method: 'HEAD' }), spec, o.l402, client);
  if (fresh.kind === 'allowed') throw new Error('the L402 gate allowed a request without a credential');
  return augment(fresh, spec, o, rejected, request.url);
}

/** Runs a one-time check; the stores it needs being down (node, spent charges) is a 503, never a redemption. */
async function guarded<V>(check: () => Promise<V>): Promise<{ verdict: V } | { down: AuthResult }> {
  try {
    return { verdict: await check() };
  } catch (e) {
    if (e instanceof StoreUnavailableError || e instanceof BackendUnavailableError)
      return { down: unavailable(e, null) };
    throw e;
  }
}

/**
 * The one entry point for a paid route; see the file comment.
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
    const g = await guarded<ChargeVerdict>(() => checkCharge(header, spec, o.payment));
    if ('down' in g) return g.down;
    const v = g.verdict;
    if (v.kind === 'allowed')
      return { kind: 'allowed', scheme: 'payment', tokenId: v.paymentHash, headers: { 'payment-receipt': v.receipt } };
    if (v.kind === 'malformed')
      return malformed(
        'malformed_authorization',
        `Authorization header is not a valid Payment credential: ${v.message}`,
      );
    return refused(request, spec, o, v.rejection, client);
  }
  const x = x402On(o);
  const signature = x ? request.headers.get(X402_HEADERS.signature) : null;
  if (x && signature !== null) {
    const g = await guarded<X402Verdict>(() => checkX402(signature, spec, x));
    if ('down' in g) return g.down;
    const v = g.verdict;
    if (v.kind === 'allowed')
      return {
        kind: 'allowed',
        scheme: 'x402',
        tokenId: v.paymentHash,
        headers: { [X402_HEADERS.response.toLowerCase()]: v.response },
      };
    if (v.kind === 'malformed')
      return malformed('malformed_payment_signature', `PAYMENT-SIGNATURE is not a valid x402 payment: ${v.message}`);
    return refused(request, spec, o, v.rejection, client);
  }
  if (!o.schemes.includes('l402')) return oneTimeOnly(spec, o, null, client, request.url);
  const r = await checkL402(request, spec, o.l402, client);
  if (r.kind === 'allowed') return { kind: 'allowed', scheme: 'l402', tokenId: r.token.tokenId, headers: {} };
  return augment(r, spec, o, r.rejected, request.url);
}
