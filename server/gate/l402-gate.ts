// The L402 gate over web-standard Request/Response only: no node: imports, so it runs on
// any runtime with Web Crypto. Decision (documented in server/README.md):
//   - no L402/LSAT credential                → 402 + challenge(s)
//   - a credential we cannot even parse       → 400 malformed_authorization (paying again cannot help)
//   - a well-formed credential that fails    → 402 with a FRESH challenge and `rejected:{code,message}`
//     (bad preimage, bad signature/tampered, revoked, expired, wrong service/capability, too much work)
//     so a client that only understands 402 can simply pay again.
//   - Lightning backend down or slow          → 503 + Retry-After
import {
  bytesToHex,
  type CompiledCaveats,
  caveat,
  compileCaveats,
  type DecodedMacaroon,
  decodeMacaroon,
  formatL402Challenges,
  hexToBytes,
  isL402Authorization,
  isL402Error,
  type L402Credential,
  mintMacaroon,
  parseAuthorization,
  type VerifiedToken,
  verifyCredential,
} from '../../src/l402/index.ts';
import { BackendUnavailableError, type LightningBackend } from '../lightning/backend.ts';
import type { TokenAuthority } from '../tokens/token-authority.ts';
import type { RateLimiter } from './rate-limit.ts';

/** What one request must have paid for; computed per request (batch prices depend on the body). */
export interface PaidRouteSpec {
  /** Capability this route needs, e.g. `pair` or `batch`. */
  capability: string;
  /** Capabilities a token bought here grants (must include `capability`). */
  grants: readonly string[];
  priceMsat: number;
  /** Extra caveats minted into a new token, e.g. `batch_max_work=1536000`. */
  caveats: readonly string[];
  /** Checks for constraint caveats by key; `true` or the reason the request exceeds it. */
  constraints: Record<string, (value: string) => true | string>;
  /** Invoice description. */
  memo: string;
  /** Extra fields for the 402 JSON body (e.g. the work a batch price was computed from). */
  details?: Record<string, unknown>;
}

/** Fixed gate settings and dependencies. */
export interface L402GateOptions {
  service: { name: string; tier: number };
  backend: LightningBackend;
  tokens: TokenAuthority;
  /** Unix milliseconds. */
  now: () => number;
  tokenLifetimeSeconds: number;
  invoiceExpirySeconds: number;
  lsatTwin: boolean;
  challengeForm: 'classic' | 'revised';
  /** Macaroon location field (informational). */
  location?: string;
  /**
   * Credentials whose preimage and signature already verified, by exact header value: a hit skips
   * those two (costly) steps but still checks revocation and every caveat against this request.
   * Create one per app with {@link createVerifiedCache}; omit to verify fully every time.
   */
  verified?: VerifiedCache;
  /** Limits how often one client may mint a challenge (429 + Retry-After when exceeded); omit for no limit. */
  mintLimit?: RateLimiter;
}

/** Bounded map: exact credential → what its verified macaroon says. */
export interface VerifiedCache {
  get(authorization: string): CachedCredential | undefined;
  set(authorization: string, c: CachedCredential): void;
}

/** What a verified credential carries. */
export interface CachedCredential {
  caveats: string[];
  tokenId: string;
  paymentHash: string;
}

/** An insertion-ordered cache holding at most `max` credentials (oldest dropped first). */
export function createVerifiedCache(max = 10_000): VerifiedCache {
  const map = new Map<string, CachedCredential>();
  return {
    get: (k) => map.get(k),
    set(k, v) {
      if (map.size >= max) map.delete(map.keys().next().value as string);
      map.set(k, v);
    },
  };
}

/** A cached credential's caveats parsed once, and the verdict handed out while they hold. */
interface Prepared {
  service: string;
  caveats: CompiledCaveats;
  allowed: Extract<GateResult, { kind: 'allowed' }>;
}

// Keyed by the cache's own entry (no second lookup by header); an entry a cache rebuilds is simply prepared again.
const preparedOf = new WeakMap<CachedCredential, Prepared>();

function prepared(hit: CachedCredential, header: string, service: string): Prepared {
  const known = preparedOf.get(hit);
  if (known && known.service === service) return known;
  const caveats = compileCaveats(hit.caveats, service);
  // Handed to every request with this header: frozen, so no caller can change what the next one sees.
  const capabilities = caveats.granted.capabilities && Object.freeze([...caveats.granted.capabilities]);
  const token = Object.freeze({
    ...caveats.granted,
    capabilities,
    tokenId: hit.tokenId,
    paymentHash: hit.paymentHash,
    authorization: header,
  }) as VerifiedToken;
  const p: Prepared = { service, caveats, allowed: Object.freeze({ kind: 'allowed', token } as const) };
  preparedOf.set(hit, p);
  return p;
}

/** Why a credential was refused. */
export interface Rejection {
  code: 'bad_preimage' | 'bad_macaroon' | 'caveat_failed' | 'token_revoked';
  message: string;
}

/** The gate's verdict: run the route with `token`, or answer with `response`. */
export type GateResult =
  | { kind: 'allowed'; token: VerifiedToken }
  | { kind: 'denied'; response: Response; status: number; rejected: Rejection | null };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...extra } });
}

/** The JSON error body shape used by every error response of the server. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { error: { code, message }, ...extra };
}

/**
 * Checks the request's `Authorization` against `spec` and either allows it or builds the response.
 * `client` identifies the caller for {@link L402GateOptions.mintLimit} (e.g. the remote address).
 * @example const r = await checkL402(req, spec, opts, ip); if (r.kind === 'denied') return r.response;
 */
export async function checkL402(
  request: Request,
  spec: PaidRouteSpec,
  opts: L402GateOptions,
  client = '',
): Promise<GateResult> {
  const challenge = (
    s: PaidRouteSpec,
    o: L402GateOptions,
    rejected: Rejection | null,
  ): Promise<GateResult> | GateResult => {
    const wait = o.mintLimit?.take(client) ?? 0;
    if (wait > 0) return rateLimited(wait, rejected);
    return mintChallenge(s, o, rejected);
  };
  const header = request.headers.get('authorization');
  if (!header) return challenge(spec, opts, null);
  // A cached header was an L402 credential when it was stored: look it up before the scheme sniff.
  const hit = opts.verified?.get(header);
  if (!hit && !isL402Authorization(header)) return challenge(spec, opts, null);
  const now = Math.floor(opts.now() / 1000);
  if (hit) {
    // Preimage and signature were verified for this exact header before; revocation and caveats
    // depend on the request and the time, so they are checked every time.
    if (opts.tokens.isRevoked(hit.tokenId))
      return challenge(spec, opts, { code: 'token_revoked', message: 'this token has been revoked' });
    const ready = prepared(hit, header, opts.service.name);
    try {
      ready.caveats.assert({
        service: opts.service.name,
        capability: spec.capability,
        now,
        constraints: spec.constraints,
      });
      return ready.allowed;
    } catch (e) {
      if (!isL402Error(e)) throw e;
      return challenge(spec, opts, { code: 'caveat_failed', message: e.message });
    }
  }

  let cred: L402Credential;
  let decoded: DecodedMacaroon;
  try {
    cred = parseAuthorization(header);
    decoded = decodeMacaroon(cred.macaroons[0]!); // parseAuthorization guarantees one macaroon
  } catch (e) {
    const message = isL402Error(e) ? e.message : 'unreadable credential';
    return {
      kind: 'denied',
      status: 400,
      rejected: null,
      response: json(
        400,
        errorBody('malformed_authorization', `Authorization header is not a valid L402 credential: ${message}`),
      ),
    };
  }

  // Our tokens carry no third-party caveats, so any further macaroon would be a discharge nothing asked for;
  // refuse it rather than ignore it, as Go's macaroon libraries do ("macaroon not used in verification").
  if (cred.macaroons.length > 1) {
    const unused = cred.macaroons.length - 1;
    return challenge(spec, opts, {
      code: 'bad_macaroon',
      message: `the credential carries ${unused} macaroon${unused === 1 ? '' : 's'} not used in verification; send only the token`,
    });
  }

  let revoked = false;
  try {
    const token = verifyCredential(cred, {
      rootKeyFor: (tokenId) => {
        if (opts.tokens.isRevoked(bytesToHex(tokenId))) {
          revoked = true;
          return null;
        }
        return opts.tokens.rootKeyFor(tokenId);
      },
      service: opts.service.name,
      capability: spec.capability,
      now,
      constraints: spec.constraints,
    });
    opts.verified?.set(header, { caveats: decoded.caveats, tokenId: token.tokenId, paymentHash: token.paymentHash });
    return { kind: 'allowed', token };
  } catch (e) {
    if (!isL402Error(e)) throw e;
    const rejection: Rejection = revoked
      ? { code: 'token_revoked', message: 'this token has been revoked' }
      : e.code === 'bad_preimage' || e.code === 'bad_macaroon' || e.code === 'caveat_failed'
        ? { code: e.code, message: e.message }
        : { code: 'bad_macaroon', message: e.message };
    return challenge(spec, opts, rejection);
  }
}

/** 429 with Retry-After: this client minted too many challenges (every scheme shares the limit). */
export function rateLimited(
  retryAfterSeconds: number,
  rejected: Rejection | null,
): Extract<GateResult, { kind: 'denied' }> {
  const body = errorBody(
    'rate_limited',
    `too many payment challenges from this client; retry in ${retryAfterSeconds} s`,
    rejected ? { rejected } : {},
  );
  return {
    kind: 'denied',
    status: 429,
    rejected,
    response: json(429, body, { 'retry-after': String(retryAfterSeconds) }),
  };
}

/** Creates an invoice and a macaroon bound to it and answers 402 (or 503 when the node is unavailable). */
async function mintChallenge(
  spec: PaidRouteSpec,
  opts: L402GateOptions,
  rejected: Rejection | null,
): Promise<GateResult> {
  const nowS = Math.floor(opts.now() / 1000);
  let invoice: { paymentRequest: string; paymentHash: string };
  try {
    invoice = await opts.backend.createInvoice(spec.priceMsat, spec.memo, opts.invoiceExpirySeconds);
  } catch (e) {
    const retry = e instanceof BackendUnavailableError ? e.retryAfterSeconds : 5;
    return {
      kind: 'denied',
      status: 503,
      rejected,
      response: json(503, errorBody('backend_unavailable', 'the Lightning node is unavailable; try again shortly'), {
        'retry-after': String(retry),
      }),
    };
  }
  const paymentHash = hexToBytes(invoice.paymentHash);
  if (paymentHash?.length !== 32) throw new Error('backend returned a malformed payment hash');
  const tokenId = opts.tokens.newTokenId();
  const validUntil = nowS + opts.tokenLifetimeSeconds;
  const macaroon = mintMacaroon({
    rootKey: opts.tokens.rootKeyFor(tokenId),
    paymentHash,
    tokenId,
    location: opts.location ?? '',
    caveats: [
      caveat.services([opts.service]),
      caveat.capabilities(opts.service.name, spec.grants),
      caveat.validUntil(opts.service.name, validUntil),
      ...spec.caveats,
    ],
  });
  const headers = new Headers(JSON_HEADERS);
  const lines = formatL402Challenges(
    { macaroon, invoice: invoice.paymentRequest },
    { form: opts.challengeForm, lsatTwin: opts.lsatTwin },
  );
  for (const line of lines) headers.append('www-authenticate', line);
  const message = rejected
    ? `credential rejected (${rejected.code}): ${rejected.message}; pay the new invoice to get a new token`
    : `payment required: pay the invoice, then retry with "Authorization: L402 <macaroon>:<preimage hex>"`;
  const body = {
    ...errorBody('payment_required', message),
    ...(rejected ? { rejected } : {}),
    service: opts.service.name,
    capability: spec.capability,
    price_msat: spec.priceMsat,
    price_sat: Math.ceil(spec.priceMsat / 1000),
    invoice: invoice.paymentRequest,
    payment_hash: invoice.paymentHash,
    macaroon,
    token_id: bytesToHex(tokenId),
    token_valid_until: validUntil,
    invoice_expires_at: nowS + opts.invoiceExpirySeconds,
    ...spec.details,
  };
  return {
    kind: 'denied',
    status: 402,
    rejected,
    response: new Response(JSON.stringify(body), { status: 402, headers }),
  };
}
