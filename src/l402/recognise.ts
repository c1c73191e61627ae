// Tells what a 402 response asks for, so the UI can say it even when we cannot pay it (docs/design.md#other-402-schemes).
import { type AuthChallenge, type L402Challenge, parseL402Challenge, parseWwwAuthenticate } from './challenge.ts';
import { base64ToBytes } from './encoding.ts';
import { isL402Error } from './errors.ts';
import { errorMessage } from '../util/error-message.ts';

// x402 v2 sends its requirements as base64 JSON in PAYMENT-REQUIRED; read the version if it is there.
function x402HeaderVersion(header: string): number | null {
  const bytes = base64ToBytes(header.trim());
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (v && typeof v === 'object' && 'x402Version' in v) {
      const n = (v as { x402Version: unknown }).x402Version;
      return typeof n === 'number' ? n : null;
    }
  } catch {
    // not JSON: still an x402 demand, version unknown
  }
  return null;
}

/**
 * A 402 response classified by its first kind (the older, single-answer view; {@link readPaymentDemand} lists every
 * payable option).
 */
export type Recognised402 =
  | { kind: 'l402'; challenge: L402Challenge }
  | { kind: 'payment'; method: string | null; params: Record<string, string> }
  | { kind: 'x402'; version: number | null; source: 'header' | 'body' }
  | { kind: 'malformed'; reason: string }
  | { kind: 'none'; schemes: string[] };

/** The parts of a 402 response the recogniser looks at. */
export interface ResponseParts {
  wwwAuthenticate?: string | readonly string[] | null;
  /** x402's `PAYMENT-REQUIRED` header. */
  paymentRequired?: string | null;
  /** A parsed JSON body, if the caller has one (x402 puts `x402Version` there). */
  jsonBody?: unknown;
}

/**
 * Classifies a 402 response. Never throws.
 * @example recognise402({ wwwAuthenticate: res.headers.get('www-authenticate') }).kind // 'l402'
 */
export function recognise402(parts: ResponseParts): Recognised402 {
  const wa = parts.wwwAuthenticate;
  let challenges: AuthChallenge[] = [];
  if (wa && (typeof wa === 'string' ? wa.length > 0 : wa.length > 0)) {
    try {
      return { kind: 'l402', challenge: parseL402Challenge(wa) };
    } catch (e) {
      if (!isL402Error(e, 'unsupported_scheme')) {
        return { kind: 'malformed', reason: errorMessage(e) };
      }
    }
    challenges = parseWwwAuthenticate(wa);
    const payment = challenges.find((c) => c.scheme.toLowerCase() === 'payment');
    if (payment) return { kind: 'payment', method: payment.params.method ?? null, params: payment.params };
  }
  if (parts.paymentRequired)
    return { kind: 'x402', version: x402HeaderVersion(parts.paymentRequired), source: 'header' };
  const body = parts.jsonBody;
  if (body && typeof body === 'object' && 'x402Version' in body) {
    const v = (body as { x402Version: unknown }).x402Version;
    return { kind: 'x402', version: typeof v === 'number' ? v : null, source: 'body' };
  }
  return { kind: 'none', schemes: challenges.map((c) => c.scheme) };
}
