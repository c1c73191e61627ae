// The token store (docs/design.md#attach): macaroon + preimage keyed by service origin and path prefix, honouring
// `<service>_valid_until`, evicted when the server rejects it, and handed out only to the page origins that
// paid for it (or the service itself) so a hostile page cannot read another site's token (docs/design.md#secure).
import {
  decodeMacaroon,
  formatAuthorization,
  isL402Error,
  parseAuthorization,
  pathInScope,
  pathScope,
  validUntil,
} from '../../l402/index.ts';
import type { StoredToken } from '../model/model.ts';
import type { KeyValueStorage } from './storage.ts';

export interface TokenDeps {
  storage: KeyValueStorage;
  clock: () => number;
}

const PREFIX = 'token:';
const REJECTED = 'token-rejected:';

/** When a server last rejected a token of a scope, and how old that token was then (for the loop guard). */
interface TokenRejection {
  origin: string;
  pathPrefix: string;
  rejectedAt: number;
  tokenAgeMs: number;
  /**
   * The token had served before it was refused (a page had it attached to a later request) or its own expiry
   * caveat had (nearly) passed: it simply ran out, so the loop guard does not hold the next payment back.
   */
  servedBefore?: boolean;
}

/** Server and browser clocks differ: a token this close to its expiry caveat is taken as expired when refused. */
const EXPIRY_SKEW_MS = 30_000;

function urlParts(url: string): { origin: string; path: string } | null {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? null : { origin: u.origin, path: u.pathname };
  } catch {
    return null;
  }
}

/**
 * Stores the token a payment bought. Scope and expiry come from the macaroon's caveats.
 * @example await storeToken(deps, { paymentHash, origin, macaroon, preimage, grantedTo: [initiator] })
 */
export async function storeToken(
  deps: TokenDeps,
  t: { paymentHash: string; origin: string; macaroon: string; preimage: string; grantedTo: readonly string[] },
): Promise<StoredToken> {
  const existing = await deps.storage.get<StoredToken>(PREFIX + t.paymentHash);
  const caveats = decodeMacaroon(t.macaroon).caveats;
  const token: StoredToken = {
    paymentHash: t.paymentHash,
    origin: t.origin,
    pathPrefix: pathScope(caveats) ?? '/',
    macaroon: t.macaroon,
    preimage: t.preimage,
    validUntil: validUntil(caveats),
    createdAt: existing?.createdAt ?? deps.clock(),
    grantedTo: [...new Set([...(existing?.grantedTo ?? []), ...t.grantedTo])],
  };
  await deps.storage.set(PREFIX + t.paymentHash, token);
  return token;
}

/** Adds a page origin to those allowed to see a token. */
export async function grantToken(
  deps: TokenDeps,
  paymentHash: string,
  pageOrigin: string,
): Promise<StoredToken | null> {
  const t = await deps.storage.get<StoredToken>(PREFIX + paymentHash);
  if (!t) return null;
  if (t.grantedTo.includes(pageOrigin)) return t;
  const next = { ...t, grantedTo: [...t.grantedTo, pageOrigin] };
  await deps.storage.set(PREFIX + paymentHash, next);
  return next;
}

function isTokenValid(t: StoredToken, now: number): boolean {
  return t.validUntil === null || t.validUntil > now;
}

/** Every stored token still valid (expired ones are dropped from storage on the way). */
export async function listTokens(deps: TokenDeps): Promise<StoredToken[]> {
  const now = deps.clock();
  const out: StoredToken[] = [];
  for (const [key, t] of await deps.storage.getAll<StoredToken>(PREFIX)) {
    if (isTokenValid(t, now)) out.push(t);
    else await deps.storage.remove(key);
  }
  return out.sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * The valid token for a URL (longest path scope, then newest), optionally only one `pageOrigin` may see.
 * @example await findToken(deps, 'https://api.example.com/v1/x', 'https://app.example.org')
 */
export async function findToken(deps: TokenDeps, url: string, pageOrigin?: string): Promise<StoredToken | null> {
  const u = urlParts(url);
  if (!u) return null;
  const candidates = (await listTokens(deps)).filter(
    (t) =>
      t.origin === u.origin &&
      pathInScope(u.path, t.pathPrefix) &&
      (pageOrigin === undefined || pageOrigin === t.origin || t.grantedTo.includes(pageOrigin)),
  );
  candidates.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || b.createdAt - a.createdAt);
  return candidates[0] ?? null;
}

/** The `Authorization` header value for a token. */
export function authorizationOf(t: StoredToken): string {
  return formatAuthorization({ macaroons: [t.macaroon], preimage: t.preimage });
}

/**
 * The header for a request to `url` made by a page at `pageOrigin`; null unless that page may see the token.
 * @example await authorizationFor(deps, 'https://api.example.com/x', sender.origin)
 */
export async function authorizationFor(deps: TokenDeps, url: string, pageOrigin: string): Promise<string | null> {
  const t = await findToken(deps, url, pageOrigin);
  return t ? authorizationOf(t) : null;
}

/**
 * The server rejected `authorization` for `url` (401, or 402 to a token): forget that token and remember the
 * rejection for the loop guard. Only a token of the URL's origin and scope is touched.
 */
export async function evictToken(deps: TokenDeps, url: string, authorization: string): Promise<boolean> {
  const u = urlParts(url);
  if (!u) return false;
  let macaroons: string[];
  let preimage: string;
  try {
    ({ macaroons, preimage } = parseAuthorization(authorization));
  } catch (e) {
    if (isL402Error(e)) return false;
    throw e;
  }
  const now = deps.clock();
  for (const [key, t] of await deps.storage.getAll<StoredToken>(PREFIX)) {
    if (t.origin !== u.origin || !pathInScope(u.path, t.pathPrefix)) continue;
    if (t.preimage !== preimage.toLowerCase() || !macaroons.includes(t.macaroon)) continue;
    await deps.storage.remove(key);
    const servedBefore = t.reusedAt !== undefined || (t.validUntil !== null && t.validUntil <= now + EXPIRY_SKEW_MS);
    const rejection: TokenRejection = {
      origin: t.origin,
      pathPrefix: t.pathPrefix,
      rejectedAt: now,
      tokenAgeMs: now - t.createdAt,
      servedBefore,
    };
    await deps.storage.set(REJECTED + t.origin + t.pathPrefix, rejection);
    return true;
  }
  return false;
}

/** The last rejection of a token in scope of `url` (origin + a path prefix covering it), if any. */
export async function lastRejection(deps: TokenDeps, url: string): Promise<TokenRejection | null> {
  const u = urlParts(url);
  if (!u) return null;
  let best: TokenRejection | null = null;
  for (const r of (await deps.storage.getAll<TokenRejection>(REJECTED + u.origin)).values()) {
    if (r.origin !== u.origin || !pathInScope(u.path, r.pathPrefix)) continue;
    if (!best || r.rejectedAt > best.rejectedAt) best = r;
  }
  return best;
}

/**
 * Like {@link authorizationFor}, for a header a page attaches to a NEW request: the token is marked as having
 * served beyond its purchase (see `TokenRejection.servedBefore`). One write, the first time only.
 */
export async function attachFor(deps: TokenDeps, url: string, pageOrigin: string): Promise<string | null> {
  const t = await findToken(deps, url, pageOrigin);
  if (!t) return null;
  if (t.reusedAt === undefined) await deps.storage.set(PREFIX + t.paymentHash, { ...t, reusedAt: deps.clock() });
  return authorizationOf(t);
}

/** Forgets a token by payment hash (the user revoked it in the UI). */
export async function revokeToken(deps: TokenDeps, paymentHash: string): Promise<boolean> {
  const key = PREFIX + paymentHash;
  if (!(await deps.storage.get<StoredToken>(key))) return false;
  await deps.storage.remove(key);
  return true;
}
