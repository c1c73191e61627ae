// The IETF `Payment` HTTP authentication scheme with the Lightning `charge` intent: challenge, credential and
// receipt (https://datatracker.ietf.org/doc/draft-httpauth-payment/, draft-lightning-charge). The challenge `id` is
// an HMAC over the other params, so a server needs no state to recognise its own challenges.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type AuthChallenge, parseWwwAuthenticate } from './challenge.ts';
import { hasControlChar, timingSafeEqual } from './encoding.ts';
import { L402Error } from './errors.ts';

/** A `WWW-Authenticate: Payment …` challenge: every param as sent (optional ones only when present). */
export interface PaymentChallenge {
  id: string;
  realm: string;
  method: string;
  intent: string;
  /** base64url of the JCS JSON request (for `charge`: {@link ChargeRequest}). */
  request: string;
  /** RFC 3339 time after which the challenge is void. */
  expires?: string;
  digest?: string;
  description?: string;
  opaque?: string;
}

/** The decoded `request` of a Lightning charge. */
export interface ChargeRequest {
  /** Sats as a decimal string. */
  amount: string;
  /** Always `sat` for Lightning. */
  currency: string;
  description?: string;
  methodDetails: {
    invoice: string;
    paymentHash?: string;
    network?: string;
  };
}

/** A `Authorization: Payment …` credential. `payload` is method-specific (for a charge: `{ preimage }`). */
export interface PaymentCredential {
  challenge: PaymentChallenge;
  source?: string;
  payload: Record<string, unknown>;
}

/** The `Payment-Receipt` a server may send with a success. */
export interface PaymentReceipt {
  status: string;
  method: string;
  timestamp: string;
  reference: string;
  challengeId?: string;
}

const REQUIRED = ['id', 'realm', 'method', 'intent', 'request'] as const;
const OPTIONAL = ['expires', 'digest', 'description', 'opaque'] as const;
const MAX_TOKEN = 16 * 1024;

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX = new Map([...B64URL].map((c, i) => [c, i]));

/**
 * Strict base64url: URL alphabet only, padding only to a multiple of 4, no dangling character and no non-zero
 * trailing bits (so one payload has one spelling). Null on anything else.
 * @example base64UrlDecode('aGVsbG8') // bytes of "hello"
 */
export function base64UrlDecode(s: string): Uint8Array | null {
  if (typeof s !== 'string') return null;
  const m = /^([A-Za-z0-9_-]*)(=*)$/.exec(s);
  if (!m) return null;
  const body = m[1]!;
  const pad = m[2]!.length;
  const rem = body.length % 4;
  if (rem === 1) return null;
  if (pad > 0 && (pad > 2 || (body.length + pad) % 4 !== 0)) return null;
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const c of body) {
    acc = (acc << 6) | B64URL_INDEX.get(c)!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) return null; // non-zero trailing bits
  return out;
}

/** Unpadded base64url. @example base64UrlEncode(new Uint8Array([0])) // 'AA' */
export function base64UrlEncode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += B64URL[(acc >> bits) & 63];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B64URL[(acc << (6 - bits)) & 63];
  return out;
}

/**
 * RFC 8785 (JCS) serialisation of a JSON value: members sorted by UTF-16 code units, ECMAScript number and string
 * forms. Throws on values JSON cannot hold.
 * @example canonicalJson({ b: 1, a: [true] }) // '{"a":[true],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new L402Error('malformed_challenge', 'JSON cannot hold a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new L402Error('malformed_challenge', `JSON cannot hold a ${typeof value}`);
}

function decodeJsonToken(
  token: string,
  what: string,
  code: 'malformed_challenge' | 'malformed_authorization',
): unknown {
  const bytes = token.length <= MAX_TOKEN ? base64UrlDecode(token) : null;
  if (!bytes) throw new L402Error(code, `${what} is not strict base64url`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return JSON.parse(text);
  } catch (e) {
    throw new L402Error(code, `${what} is not UTF-8 JSON`, { cause: e });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Builds a challenge from auth-params; null when a required param is missing or empty. */
function toPaymentChallenge(params: Record<string, string>): PaymentChallenge | null {
  for (const k of REQUIRED) if (!params[k]) return null;
  const c: PaymentChallenge = {
    id: params.id!,
    realm: params.realm!,
    method: params.method!,
    intent: params.intent!,
    request: params.request!,
  };
  for (const k of OPTIONAL) if (params[k] !== undefined) c[k] = params[k];
  return c;
}

/**
 * Every complete `Payment` challenge of a WWW-Authenticate value (string or lines), in order; an incomplete one is
 * skipped. Throws `malformed_challenge` on syntax errors and `unsupported_scheme` when none is complete.
 * @example parsePaymentChallenges(res.headers.get('www-authenticate')!)[0].intent // 'charge'
 */
export function parsePaymentChallenges(value: string | readonly string[]): PaymentChallenge[] {
  return paymentChallengesOf(parseWwwAuthenticate(value));
}

/** The complete `Payment` challenges among already parsed challenges. Throws `unsupported_scheme` when none. */
export function paymentChallengesOf(all: readonly AuthChallenge[]): PaymentChallenge[] {
  const out: PaymentChallenge[] = [];
  for (const c of all) {
    if (c.scheme.toLowerCase() !== 'payment') continue;
    const p = toPaymentChallenge(c.params);
    if (p) out.push(p);
  }
  if (out.length === 0) throw new L402Error('unsupported_scheme', 'no complete Payment challenge');
  return out;
}

function quoteParam(name: string, v: string): string {
  // A quoted-string may hold HTAB, SP, VCHAR and obs-text; CR, LF and other controls never (header injection).
  if (hasControlChar(v)) throw new L402Error('malformed_challenge', `Payment ${name} holds a control character`);
  return `${name}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * One `WWW-Authenticate` line for a challenge, params in the draft's order.
 * @example formatPaymentChallenge({ id, realm: 'api.example', method: 'lightning', intent: 'charge', request })
 */
export function formatPaymentChallenge(c: PaymentChallenge): string {
  for (const k of REQUIRED) if (!c[k]) throw new L402Error('malformed_challenge', `Payment challenge needs ${k}`);
  const parts: string[] = [];
  for (const k of [...REQUIRED, ...OPTIONAL]) {
    const v = c[k];
    if (v !== undefined) parts.push(quoteParam(k, v));
  }
  return `Payment ${parts.join(', ')}`;
}

const SATS = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Decodes and checks a Lightning charge `request`: strict base64url of JSON with a decimal-sat `amount`,
 * `currency`, and `methodDetails.invoice`. Throws `malformed_challenge`.
 * @example decodeChargeRequest(challenge.request).methodDetails.invoice // 'lnbcrt…'
 */
export function decodeChargeRequest(request: string): ChargeRequest {
  const v = decodeJsonToken(request, 'Payment request', 'malformed_challenge');
  const bad = (why: string): never => {
    throw new L402Error('malformed_challenge', `Payment charge request: ${why}`);
  };
  if (!isObject(v)) return bad('not a JSON object');
  if (typeof v.amount !== 'string' || !SATS.test(v.amount)) bad('amount must be a decimal string of sats');
  if (typeof v.currency !== 'string') bad('currency missing');
  if (v.description !== undefined && typeof v.description !== 'string') bad('description must be a string');
  const md = v.methodDetails;
  if (!isObject(md)) return bad('methodDetails missing');
  if (typeof md.invoice !== 'string' || !/^ln[a-z0-9]+$/i.test(md.invoice))
    bad('methodDetails.invoice is not a BOLT11 invoice');
  // Any string is kept: whether it is the invoice's hash is the sanity check's business (hash_mismatch).
  if (md.paymentHash !== undefined && (typeof md.paymentHash !== 'string' || md.paymentHash.length > 128)) {
    bad('methodDetails.paymentHash must be a hex string');
  }
  if (md.network !== undefined && typeof md.network !== 'string') bad('methodDetails.network must be a string');
  const out: ChargeRequest = {
    amount: v.amount as string,
    currency: v.currency as string,
    methodDetails: { invoice: md.invoice as string },
  };
  if (typeof v.description === 'string') out.description = v.description;
  if (typeof md.paymentHash === 'string') out.methodDetails.paymentHash = md.paymentHash.toLowerCase();
  if (typeof md.network === 'string') out.methodDetails.network = md.network;
  return out;
}

/** The `request` param for a charge: base64url of its JCS JSON. */
export function encodeChargeRequest(r: ChargeRequest): string {
  return base64UrlEncode(new TextEncoder().encode(canonicalJson(r)));
}

/** The string the challenge id is an HMAC of: realm|method|intent|request|expires|digest|opaque (empty when absent). */
export function challengeIdInput(c: Omit<PaymentChallenge, 'id'>): string {
  return [c.realm, c.method, c.intent, c.request, c.expires ?? '', c.digest ?? '', c.opaque ?? ''].join('|');
}

/**
 * base64url(HMAC-SHA256(secret, {@link challengeIdInput})): binds the params to the server that issued them.
 * @example const id = paymentChallengeId(secret, { realm, method: 'lightning', intent: 'charge', request, expires });
 */
export function paymentChallengeId(secret: Uint8Array, c: Omit<PaymentChallenge, 'id'>): string {
  return base64UrlEncode(hmac(sha256, secret, new TextEncoder().encode(challengeIdInput(c))));
}

/** True when `c.id` is this secret's HMAC of the other params (constant-time). */
export function verifyPaymentChallengeId(secret: Uint8Array, c: PaymentChallenge): boolean {
  const got = base64UrlDecode(c.id);
  const want = hmac(sha256, secret, new TextEncoder().encode(challengeIdInput(c)));
  return got !== null && timingSafeEqual(got, want);
}

function challengeEcho(c: PaymentChallenge): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...REQUIRED, ...OPTIONAL]) {
    const v = c[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * The `Authorization` value: `Payment <base64url(JSON {challenge, source?, payload})>`, every challenge param
 * echoed unchanged.
 * @example formatPaymentCredential({ challenge, payload: { preimage } }) // 'Payment eyJjaGFsbGVuZ2Ui…'
 */
export function formatPaymentCredential(c: PaymentCredential): string {
  const body: Record<string, unknown> = { challenge: challengeEcho(c.challenge) };
  if (c.source !== undefined) body.source = c.source;
  body.payload = c.payload;
  return `Payment ${base64UrlEncode(new TextEncoder().encode(JSON.stringify(body)))}`;
}

/**
 * Strictly parses an `Authorization: Payment …` value. Throws `malformed_authorization`.
 * @example parsePaymentCredential(req.headers.get('authorization')!).payload.preimage
 */
export function parsePaymentCredential(header: string): PaymentCredential {
  const bad = (why: string): never => {
    throw new L402Error('malformed_authorization', `Payment credential: ${why}`);
  };
  if (typeof header !== 'string' || header.length > MAX_TOKEN + 16 || hasControlChar(header))
    bad('missing, too long or with control characters');
  const m = /^[ \t]*payment[ \t]+([A-Za-z0-9_-]+={0,2})[ \t]*$/i.exec(header);
  if (!m) return bad('expected "Payment <base64url>"');
  const v = decodeJsonToken(m[1]!, 'Payment credential', 'malformed_authorization');
  if (!isObject(v)) return bad('not a JSON object');
  if (!isObject(v.challenge)) return bad('challenge missing');
  const params: Record<string, string> = {};
  for (const k of [...REQUIRED, ...OPTIONAL]) {
    const p = v.challenge[k];
    if (p === undefined) continue;
    if (typeof p !== 'string') bad(`challenge.${k} must be a string`);
    params[k] = p as string;
  }
  const challenge = toPaymentChallenge(params);
  if (!challenge) return bad('challenge lacks id, realm, method, intent or request');
  if (!isObject(v.payload)) return bad('payload missing');
  if (v.source !== undefined && typeof v.source !== 'string') bad('source must be a string');
  const out: PaymentCredential = { challenge, payload: v.payload };
  if (typeof v.source === 'string') out.source = v.source;
  return out;
}

/** True when the header value names the Payment scheme (whether or not it is well-formed). */
export function isPaymentAuthorization(header: string | null | undefined): boolean {
  return typeof header === 'string' && /^\s*payment\s/i.test(header);
}

/** The charge preimage of a credential (64 hex, lowercased). Throws `malformed_authorization`. */
export function chargePreimageOf(c: PaymentCredential): string {
  const p = c.payload.preimage;
  if (typeof p !== 'string' || !/^[0-9a-fA-F]{64}$/.test(p)) {
    throw new L402Error('malformed_authorization', 'a charge credential carries payload.preimage of 64 hex');
  }
  return p.toLowerCase();
}

/** The `Payment-Receipt` value: unpadded base64url of the receipt JSON. */
export function formatPaymentReceipt(r: PaymentReceipt): string {
  const body: Record<string, string> = {
    status: r.status,
    method: r.method,
    timestamp: r.timestamp,
    reference: r.reference,
  };
  if (r.challengeId) body.challengeId = r.challengeId;
  return base64UrlEncode(new TextEncoder().encode(JSON.stringify(body)));
}

/** Parses a `Payment-Receipt` value. Throws `malformed_authorization` (the receipt is the credential's answer). */
export function parsePaymentReceipt(header: string): PaymentReceipt {
  const v = decodeJsonToken(header.trim(), 'Payment-Receipt', 'malformed_authorization');
  if (!isObject(v)) throw new L402Error('malformed_authorization', 'Payment-Receipt is not a JSON object');
  const str = (k: string): string => {
    const s = v[k];
    if (typeof s !== 'string') throw new L402Error('malformed_authorization', `Payment-Receipt lacks ${k}`);
    return s;
  };
  const out: PaymentReceipt = {
    status: str('status'),
    method: str('method'),
    timestamp: str('timestamp'),
    reference: str('reference'),
  };
  if (typeof v.challengeId === 'string' && v.challengeId) out.challengeId = v.challengeId;
  return out;
}

/** Unix seconds of an RFC 3339 `expires`; throws `malformed_challenge` when it is not one. */
export function expiresSeconds(expires: string): number {
  const ok = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(expires);
  const ms = ok ? Date.parse(expires) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new L402Error('malformed_challenge', `Payment expires is not an RFC 3339 time: ${JSON.stringify(expires)}`);
  return Math.floor(ms / 1000);
}
