// x402 v2: `PAYMENT-REQUIRED` (base64 JSON) lists payment requirements; the Lightning variant of the `exact` scheme
// carries a BOLT11 invoice in `extra.invoice` and is answered with `PAYMENT-SIGNATURE` (base64 JSON naming the paid
// invoice). See https://github.com/coinbase/x402/blob/main/specs/schemes/exact/scheme_exact_lightning.md
import { base64ToBytes, bytesToBase64 } from './encoding.ts';
import { L402Error } from './errors.ts';
import type { Network } from './invoice.ts';

/** One entry of `accepts`. Only the fields this project reads are typed; the rest is kept as sent. */
export interface X402Requirements {
  scheme: string;
  /** CAIP-2 id, e.g. `bip122:000000000019d6689c085ae165831e93` or `eip155:8453`. */
  network: string;
  /** Smallest unit of the asset as a decimal string (millisatoshi for Lightning). */
  amount: string;
  asset?: string;
  payTo?: string;
  maxTimeoutSeconds?: number;
  extra?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The decoded `PAYMENT-REQUIRED` header. */
export interface X402PaymentRequired {
  x402Version: number;
  accepts: X402Requirements[];
  resource?: unknown;
  error?: string;
}

/** A requirement payable over Lightning: `extra.paymentMethod` is `lightning` and `extra.invoice` a BOLT11 string. */
export type X402LightningRequirements = X402Requirements & { extra: { paymentMethod: 'lightning'; invoice: string } };

/** The header a client answers an x402 402 with (x402 v2). */
export const X402_SIGNATURE_HEADER = 'PAYMENT-SIGNATURE';

const MAX_HEADER = 64 * 1024;

/** CAIP-2 ids of Bitcoin chains (genesis hash prefix) and the invoice networks they mean. */
export const BIP122_NETWORKS: Readonly<Record<string, Network>> = {
  'bip122:000000000019d6689c085ae165831e93': 'mainnet',
  'bip122:000000000933ea01ad0ee984209779ba': 'testnet',
  'bip122:00000008819873e925422c1ff0f99f7c': 'signet',
  'bip122:0f9188f13cb7b2c71f2a335e3a4fc328': 'regtest',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function decodeBase64Json(header: string, what: string): unknown {
  const t = typeof header === 'string' ? header.trim() : '';
  const bytes = t.length > 0 && t.length <= MAX_HEADER ? base64ToBytes(t) : null;
  if (!bytes) throw new L402Error('malformed_challenge', `${what} is not base64`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new L402Error('malformed_challenge', `${what} is not UTF-8 JSON`, { cause: e });
  }
}

/**
 * Decodes a `PAYMENT-REQUIRED` header. Throws `malformed_challenge` unless it is base64 JSON with a numeric
 * `x402Version` and a non-empty `accepts` of objects with string `scheme`, `network` and `amount`.
 * @example parseX402PaymentRequired(res.headers.get('payment-required')!).accepts[0].network
 */
export function parseX402PaymentRequired(header: string): X402PaymentRequired {
  const v = decodeBase64Json(header, 'PAYMENT-REQUIRED');
  if (!isObject(v) || typeof v.x402Version !== 'number')
    throw new L402Error('malformed_challenge', 'PAYMENT-REQUIRED lacks x402Version');
  if (!Array.isArray(v.accepts) || v.accepts.length === 0)
    throw new L402Error('malformed_challenge', 'PAYMENT-REQUIRED lists no payment options');
  const accepts: X402Requirements[] = [];
  for (const a of v.accepts) {
    if (!isObject(a) || typeof a.scheme !== 'string' || typeof a.network !== 'string' || typeof a.amount !== 'string') {
      throw new L402Error('malformed_challenge', 'a PAYMENT-REQUIRED option lacks scheme, network or amount');
    }
    if (a.extra !== undefined && !isObject(a.extra))
      throw new L402Error('malformed_challenge', 'a PAYMENT-REQUIRED option has a non-object extra');
    accepts.push(a as X402Requirements);
  }
  const out: X402PaymentRequired = { x402Version: v.x402Version, accepts };
  if (v.resource !== undefined) out.resource = v.resource;
  if (typeof v.error === 'string') out.error = v.error;
  return out;
}

/** True for the Lightning variant: `extra.paymentMethod === 'lightning'` with a BOLT11 `extra.invoice`. */
export function isX402Lightning(r: X402Requirements): r is X402LightningRequirements {
  return (
    r.extra?.paymentMethod === 'lightning' &&
    typeof r.extra.invoice === 'string' &&
    /^ln[a-z0-9]+$/i.test(r.extra.invoice)
  );
}

/** How an option is named to a user: `x402 exact on eip155:8453 (USDC)`. */
export function describeX402(r: X402Requirements): string {
  const asset = typeof r.asset === 'string' ? ` (${r.asset.slice(0, 60)})` : '';
  return `x402 ${r.scheme.slice(0, 40)} on ${r.network.slice(0, 80)}${asset}`;
}

/**
 * What the client sends after paying: the requirement it fulfilled and the paid invoice. The spec's payload has
 * `scheme` and `network` inside `accepted` only; our client and @getalby/lightning-tools also repeat them on top.
 */
export interface X402PaymentPayload {
  x402Version: number;
  scheme?: string;
  network?: string;
  accepted: X402Requirements;
  payload: { invoice: string };
  resource?: unknown;
}

/**
 * The `PAYMENT-SIGNATURE` value for a paid Lightning requirement (base64 of the payload JSON).
 * @example headers.set(X402_SIGNATURE_HEADER, formatX402PaymentSignature(req, paymentRequired.resource));
 */
export function formatX402PaymentSignature(r: X402LightningRequirements, resource?: unknown): string {
  const body: X402PaymentPayload = {
    x402Version: 2,
    scheme: r.scheme,
    network: r.network,
    accepted: r,
    payload: { invoice: r.extra.invoice },
  };
  if (resource !== undefined) body.resource = resource;
  return bytesToBase64(new TextEncoder().encode(JSON.stringify(body)));
}

/**
 * Parses a `PAYMENT-SIGNATURE` value (server side): base64 JSON with a numeric `x402Version`, an `accepted` object
 * with string `scheme`, `network` and `amount`, and a string `payload.invoice`; top-level `scheme`/`network`, when
 * present, are strings. Throws `malformed_authorization`.
 */
export function parseX402PaymentSignature(header: string): X402PaymentPayload {
  let v: unknown;
  try {
    v = decodeBase64Json(header, 'PAYMENT-SIGNATURE');
  } catch (e) {
    throw new L402Error('malformed_authorization', e instanceof Error ? e.message : 'unreadable PAYMENT-SIGNATURE', {
      cause: e,
    });
  }
  const optionalString = (x: unknown) => x === undefined || typeof x === 'string';
  if (
    !isObject(v) ||
    typeof v.x402Version !== 'number' ||
    !optionalString(v.scheme) ||
    !optionalString(v.network) ||
    !isObject(v.accepted) ||
    typeof v.accepted.scheme !== 'string' ||
    typeof v.accepted.network !== 'string' ||
    typeof v.accepted.amount !== 'string' ||
    !isObject(v.payload) ||
    typeof v.payload.invoice !== 'string'
  ) {
    throw new L402Error(
      'malformed_authorization',
      'PAYMENT-SIGNATURE lacks x402Version, accepted (scheme, network, amount) or payload.invoice',
    );
  }
  return v as unknown as X402PaymentPayload;
}
