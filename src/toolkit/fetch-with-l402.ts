// The L402-aware fetch (docs/design.md#the-page-toolkit): on a 402 with a valid L402 challenge it pays through the wallet, verifies the
// preimage, stores the token and retries once. Pure web APIs only, so it runs in pages, workers and Node.
import {
  formatAuthorization,
  isL402Error,
  L402Error,
  type Network,
  type PaymentDemand,
  recognise402,
  type ValidatedChallenge,
  validateChallenge,
  verifyPreimage,
} from '../l402/index.ts';
import type { Wallet } from '../wallet/wallet.ts';
import { WalletError } from '../wallet/wallet.ts';
import { toWallet, type WalletLike } from '../wallet/webln.ts';
import { L402FetchError } from './errors.ts';
import { toReplayable } from './request-replay.ts';
import { expiryOf, findToken, type L402Token, memoryTokenStore, scopeOf, type TokenStore } from './token-store.ts';

/** What a challenge asks, as shown to `onChallenge`. */
export interface ChallengeInfo {
  url: string;
  origin: string;
  amountSat: number;
  amountMsat: number;
  description: string | null;
  paymentHash: string;
  invoice: string;
  network: Network;
  /** Invoice expiry, unix seconds. */
  expiresAt: number;
}

/** Options of {@link wrapFetch} and {@link fetchWithL402}. */
export interface L402FetchOptions {
  /** Any WebLN provider (`window.webln`, `requestProvider()`), a `{ payInvoice }` object, or a {@link Wallet}. */
  wallet: WalletLike;
  /** Where tokens live; default: in memory (one store per `wrapFetch`, one shared by all `fetchWithL402` calls). */
  tokenStore?: TokenStore;
  /** Refuse (`over_limit`) any invoice above this many sats. */
  maxAmountSat?: number;
  /** Asked before each payment; return false to refuse (`refused`). */
  onChallenge?: (info: ChallengeInfo) => boolean | Promise<boolean>;
  /** Clock in milliseconds, like `Date.now` (tests pass a fake). */
  now?: () => number;
  /** Networks the wallet is on; invoices for others are `invalid_challenge` (cause `wrong_network`). */
  networks?: readonly Network[];
}

/** Options of {@link fetchWithL402}: the same, plus the fetch to use. */
export interface FetchWithL402Options extends L402FetchOptions {
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Per token store: payments in flight per scope, and every payment hash ever attempted (never pay one twice). */
interface PayState {
  inflight: Map<string, Promise<L402Token>>;
  attempted: Set<string>;
}
const states = new WeakMap<TokenStore, PayState>();
function stateFor(store: TokenStore): PayState {
  const s = states.get(store) ?? { inflight: new Map(), attempted: new Set<string>() };
  states.set(store, s);
  return s;
}

// One adapter per wallet object, so a WebLN provider is enable()d once, not once per request.
const wallets = new WeakMap<object, Wallet>();
function walletFor(w: WalletLike): Wallet {
  const adapted = wallets.get(w) ?? toWallet(w);
  wallets.set(w, adapted);
  return adapted;
}

const defaultStore = memoryTokenStore();

/** Expiry headroom: an invoice about to expire could lapse while the payment routes. */
const EXPIRY_MARGIN_SECONDS = 5;

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

async function demandOf(res: Response): Promise<PaymentDemand> {
  const parts = {
    wwwAuthenticate: res.headers.get('www-authenticate'),
    paymentRequired: res.headers.get('payment-required'),
  };
  const first = recognise402(parts);
  if (first.kind !== 'none' || !/json/i.test(res.headers.get('content-type') ?? '')) return first;
  // Only a non-L402 402 is worth reading the body of (x402 puts `x402Version` there); a clone keeps it readable.
  const jsonBody: unknown = await res
    .clone()
    .json()
    .catch(() => undefined);
  return recognise402({ ...parts, jsonBody });
}

interface Ctx {
  fetch: typeof fetch;
  wallet: Wallet;
  store: TokenStore;
  state: PayState;
  options: L402FetchOptions;
  nowSeconds: () => number;
}

async function payChallenge(ctx: Ctx, url: URL, v: ValidatedChallenge): Promise<L402Token> {
  const { options, state } = ctx;
  const hash = v.invoice.paymentHash;
  const amountMsat = v.invoice.amountMsat;
  const amountSat = Math.ceil(amountMsat / 1000);
  const details = { url: url.href, amountSat, paymentHash: hash };
  if (options.maxAmountSat !== undefined && amountMsat > options.maxAmountSat * 1000) {
    throw new L402FetchError('over_limit', `asks ${amountSat} sats, above the limit of ${options.maxAmountSat}`, details);
  }
  if (state.attempted.has(hash)) {
    throw new L402FetchError('already_paid', 'this invoice was already paid (or attempted) once', details);
  }
  const info: ChallengeInfo = {
    url: url.href,
    origin: url.origin,
    amountSat,
    amountMsat,
    description: v.invoice.description,
    paymentHash: hash,
    invoice: v.invoice.paymentRequest,
    network: v.invoice.network,
    expiresAt: v.invoice.expiresAt,
  };
  if (options.onChallenge && (await options.onChallenge(info)) !== true) {
    throw new L402FetchError('refused', 'payment refused by onChallenge', details);
  }
  // Marked BEFORE paying: whatever happens next (even a timeout), this hash is never paid again by us.
  state.attempted.add(hash);
  let preimage: string;
  try {
    preimage = (await ctx.wallet.payInvoice(v.invoice.paymentRequest)).preimage;
  } catch (e) {
    const code = e instanceof WalletError ? e.code : 'internal';
    if (code === 'rejected') throw new L402FetchError('refused', 'the wallet refused the payment', { ...details, cause: e });
    if (code === 'timeout') {
      throw new L402FetchError('payment_unknown', 'the wallet did not answer in time: the payment may have gone through', {
        ...details,
        cause: e,
      });
    }
    throw new L402FetchError('payment_failed', `payment failed: ${e instanceof Error ? e.message : e}`, { ...details, cause: e });
  }
  if (!verifyPreimage(preimage, hash)) {
    throw new L402FetchError('bad_preimage', 'the wallet returned a preimage that does not match the invoice', details);
  }
  const token: L402Token = {
    ...scopeOf(url),
    macaroon: v.challenge.macaroon,
    preimage: preimage.toLowerCase(),
    paymentHash: hash,
    expiresAt: expiryOf(v.macaroon.caveats),
    createdAt: Math.floor(ctx.nowSeconds()),
  };
  await ctx.store.put(token);
  return token;
}

const authorizationOf = (t: L402Token) => formatAuthorization({ macaroons: [t.macaroon], preimage: t.preimage });

async function l402Fetch(ctx: Ctx, input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
  const req = await toReplayable(input, init);
  const url = req.url;
  const { origin, pathPrefix } = scopeOf(url);
  const scope = origin + pathPrefix;

  // Another call is paying for this scope right now: wait for its token instead of paying a second invoice.
  await ctx.state.inflight.get(scope)?.catch(() => null);

  let cached = req.hasAuthorization ? null : await findToken(ctx.store, url, ctx.nowSeconds());
  let res = await ctx.fetch(req.build(cached && authorizationOf(cached)));
  if (cached && (res.status === 401 || res.status === 402)) {
    // The server does not accept the stored token here (expired, revoked, or not enough for this request). A token
    // of this very scope is dropped; one inherited from a parent path is kept: it may still be good where it was
    // bought (e.g. a /v1/ "pair" token sent to /v1/similarity/batch).
    // A 402 carries a fresh challenge; a 401 (docs/design.md#credential) needs one plain request to get one.
    if (cached.pathPrefix === pathPrefix) await ctx.store.remove(cached.origin, cached.paymentHash);
    cached = null;
    if (res.status === 401) {
      await discard(res);
      res = await ctx.fetch(req.build(null));
    }
  }
  if (res.status !== 402) return res;

  const retry = async (token: L402Token): Promise<Response> => {
    await discard(res);
    const again = await ctx.fetch(req.build(authorizationOf(token)));
    if (again.status === 402 || again.status === 401) {
      // A fresh, verified token refused: evict it and stop — paying again could loop forever (docs/design.md#quality-bars).
      await ctx.store.remove(token.origin, token.paymentHash);
      throw new L402FetchError('retry_failed', `the server answered ${again.status} to a freshly paid token`, {
        url: url.href,
        paymentHash: token.paymentHash,
        response: again,
      });
    }
    return again;
  };

  const demand = await demandOf(res);
  if (demand.kind === 'none') return res; // a 402 that asks for no payment scheme we know: the caller's business
  if (demand.kind !== 'l402') {
    await discard(res);
    const what = demand.kind === 'malformed' ? `a malformed challenge (${demand.reason})` : `a ${demand.kind} payment`;
    throw new L402FetchError(demand.kind === 'malformed' ? 'invalid_challenge' : 'unsupported_challenge', `the server asks for ${what}`, {
      url: url.href,
      demand,
    });
  }
  let validated: ValidatedChallenge;
  try {
    validated = validateChallenge(demand.challenge, {
      now: ctx.nowSeconds(),
      expiryMarginSeconds: EXPIRY_MARGIN_SECONDS,
      ...(ctx.options.networks ? { networks: ctx.options.networks } : {}),
    });
  } catch (e) {
    await discard(res);
    const core = isL402Error(e) ? e.code : 'malformed_challenge';
    throw new L402FetchError('invalid_challenge', `the L402 challenge is not payable: ${core}`, { url: url.href, demand, cause: e });
  }
  const tokenUntil = expiryOf(validated.macaroon.caveats);
  if (tokenUntil !== null && tokenUntil <= ctx.nowSeconds()) {
    await discard(res);
    const cause = new L402Error('caveat_failed', `the offered token expired at ${tokenUntil}`);
    throw new L402FetchError('invalid_challenge', 'the L402 challenge offers an already expired token', { url: url.href, demand, cause });
  }
  // Another call for this scope may have started paying while we read our 402: use its token rather than pay a
  // second invoice. Loop because the payment we joined may fail and another call may have taken over.
  for (let other = ctx.state.inflight.get(scope); other; other = ctx.state.inflight.get(scope)) {
    const token = await other.catch(() => null);
    if (token) return retry(token);
  }
  // Registered in the same tick as the check above (no await between), so concurrent 402s find it and share it.
  const payment = payChallenge(ctx, url, validated);
  ctx.state.inflight.set(scope, payment);
  let token: L402Token;
  try {
    token = await payment;
  } catch (e) {
    await discard(res);
    throw e;
  } finally {
    if (ctx.state.inflight.get(scope) === payment) ctx.state.inflight.delete(scope);
  }
  return retry(token);
}

function contextOf(fetchImpl: typeof fetch, options: L402FetchOptions, store: TokenStore): Ctx {
  const now = options.now ?? Date.now;
  // Called as a plain function, never as `ctx.fetch(…)`: browsers throw "Illegal invocation" when window.fetch
  // runs with any `this` other than the window (or undefined).
  const send = (request: Request) => fetchImpl(request);
  return { fetch: send as typeof fetch, wallet: walletFor(options.wallet), store, state: stateFor(store), options, nowSeconds: () => now() / 1000 };
}

/**
 * Returns a `fetch` that pays L402 challenges. Same signature as `fetch`; the caller's Request/init are never
 * modified. Tokens are kept in `options.tokenStore` (default: a memory store private to this wrapper).
 * Throws {@link L402FetchError} when it will not or cannot pay; other responses (including a 402 with no known
 * payment scheme) come back unchanged.
 * @example
 * import { requestProvider } from 'webln';
 * import { wrapFetch, localStorageTokenStore } from 'l402-autopilot/toolkit';
 * const fetchL402 = wrapFetch(fetch, { wallet: await requestProvider(), maxAmountSat: 100, tokenStore: localStorageTokenStore() });
 * const res = await fetchL402('https://api.example.com/v1/similarity', {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 0], b: [1, 1] }),
 * });
 * console.log(await res.json()); // { similarity: 0.7071… }
 */
export function wrapFetch(fetchImpl: typeof fetch, options: L402FetchOptions): typeof fetch {
  const ctx = contextOf(fetchImpl, options, options.tokenStore ?? memoryTokenStore());
  return ((input: RequestInfo | URL, init?: RequestInit) => l402Fetch(ctx, input, init)) as typeof fetch;
}

/**
 * One L402-aware request: like `fetch(input, init)`, paying a 402 L402 challenge with `options.wallet`.
 * Without `options.tokenStore`, tokens go to one memory store shared by all calls in this realm, so a second call
 * to the same service reuses the token.
 * @example
 * const res = await fetchWithL402('https://api.example.com/v1/pricing', undefined, {
 *   wallet: { payInvoice: async (invoice) => ({ preimage: await myNode.pay(invoice) }) },
 *   maxAmountSat: 10,
 *   onChallenge: (c) => confirm(`Pay ${c.amountSat} sats to ${c.origin}?`),
 * });
 */
export function fetchWithL402(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  options: FetchWithL402Options,
): Promise<Response> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return l402Fetch(contextOf(fetchImpl, options, options.tokenStore ?? defaultStore), input, init);
}
