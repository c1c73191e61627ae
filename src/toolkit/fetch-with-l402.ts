// The 402-aware fetch (docs/toolkit.md): on a 402 it reads every payable option (L402, the `Payment` scheme's
// Lightning charge, x402's Lightning variant), checks each invoice, picks ONE (a reusable L402 token first, else the
// cheapest), pays it through the wallet, verifies the preimage and retries once. Pure web APIs only, so it runs in
// pages, workers and Node.
import {
  type CheckedOption,
  type CredentialScope,
  chooseOption,
  covers,
  formatAuthorization,
  formatPaymentCredential,
  formatX402PaymentSignature,
  L402Error,
  type Network,
  type PaymentDemand,
  readPaymentDemand,
  recognise402,
  scopeFor,
  validUntil,
  verifyPreimage,
  X402_SIGNATURE_HEADER,
} from '../l402/index.ts';
import type { PaymentLookup, Wallet } from '../wallet/wallet.ts';
import { WalletError } from '../wallet/wallet.ts';
import { toWallet, type WalletLike } from '../wallet/webln.ts';
import { L402FetchError } from './errors.ts';
import { type Credential, toReplayable } from './request-replay.ts';
import {
  findToken,
  type L402Token,
  memoryTokenStore,
  type PendingPayment,
  readPendingPayment,
  type TokenStore,
} from './token-store.ts';

/** What a challenge asks, as shown to `onChallenge`. */
export interface ChallengeInfo {
  url: string;
  origin: string;
  /** Which scheme will be paid: `l402` buys a reusable token, `payment` (Lightning charge) and `x402` pay once. */
  scheme: 'l402' | 'payment' | 'x402';
  /** True when the payment buys a token that later requests reuse. */
  reusable: boolean;
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

/** An L402 payment in flight and the scope of the token it buys. */
interface Inflight {
  scope: CredentialScope;
  token: Promise<L402Token>;
}

/**
 * Per token store: L402 payments in flight (by scope), every payment hash ever attempted (never pay one twice), and
 * the open payments of a store that cannot persist them.
 */
interface PayState {
  inflight: Set<Inflight>;
  attempted: Set<string>;
  pending: PendingPayment[];
}
const states = new WeakMap<TokenStore, PayState>();
function stateFor(store: TokenStore): PayState {
  const s = states.get(store) ?? { inflight: new Set<Inflight>(), attempted: new Set<string>(), pending: [] };
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

const demandOf = (res: Response): PaymentDemand =>
  readPaymentDemand({
    wwwAuthenticate: res.headers.get('www-authenticate'),
    paymentRequired: res.headers.get('payment-required'),
  });

/** An x402 v1 402 puts `x402Version` in a JSON body: recognised (and named), never paid. */
async function isX402Body(res: Response): Promise<boolean> {
  if (!/json/i.test(res.headers.get('content-type') ?? '')) return false;
  const jsonBody: unknown = await res
    .clone()
    .json()
    .catch(() => undefined);
  return recognise402({ jsonBody }).kind === 'x402';
}

interface Ctx {
  fetch: typeof fetch;
  wallet: Wallet;
  /** The wallet's own lookup, when it has one (`toWallet` keeps only payInvoice). */
  lookup: ((paymentHash: string) => Promise<PaymentLookup>) | null;
  store: TokenStore;
  state: PayState;
  options: L402FetchOptions;
  /** Unix ms. */
  now: () => number;
}

/** Where open payments live: the store's own records, else this realm's memory. */
function pendingOf(ctx: Ctx) {
  const { store, state } = ctx;
  return {
    list: async (origin: string): Promise<PendingPayment[]> => {
      const all = store.listPending ? await store.listPending(origin) : state.pending;
      // A custom store may hand back what an earlier build gave it to keep.
      return all.map(readPendingPayment).filter((p): p is PendingPayment => p !== null && p.origin === origin);
    },
    put: async (p: PendingPayment) => {
      if (store.putPending) await store.putPending(p);
      else state.pending.push(p);
    },
    remove: async (origin: string, paymentHash: string) => {
      if (store.removePending) await store.removePending(origin, paymentHash);
      else state.pending = state.pending.filter((p) => p.origin !== origin || p.paymentHash !== paymentHash);
    },
  };
}

/**
 * Before any new invoice for a scope: an earlier payment covering it whose outcome is not known (a wallet timeout,
 * a reload mid-payment) is looked up first. Succeeded: its token serves. Failed: forgotten. Still open, or a wallet
 * that cannot look payments up: `payment_unknown`, nothing paid (the app may drop it with `store.removePending`).
 */
async function resolveOpen(ctx: Ctx, url: URL): Promise<L402Token | null> {
  const pending = pendingOf(ctx);
  const open = (await pending.list(url.origin)).filter((p) => covers(p, url));
  let unknown: PendingPayment | null = null;
  for (const p of open) {
    const found = ctx.lookup ? await ctx.lookup(p.paymentHash).catch(() => null) : null;
    if (found?.state === 'succeeded' && verifyPreimage(found.preimage, p.paymentHash)) {
      const token: L402Token = {
        origin: p.origin,
        pathPrefix: p.pathPrefix,
        macaroon: p.macaroon,
        preimage: found.preimage.toLowerCase(),
        paymentHash: p.paymentHash,
        validUntil: p.validUntil,
        createdAt: ctx.now(),
      };
      await ctx.store.put(token);
      await pending.remove(p.origin, p.paymentHash);
      return token;
    }
    if (found?.state === 'failed') await pending.remove(p.origin, p.paymentHash);
    else unknown ??= p;
  }
  if (unknown) {
    throw new L402FetchError(
      'payment_unknown',
      'an earlier payment for this is still being checked with the wallet; nothing more is paid for it until its outcome is known',
      { url: url.href, paymentHash: unknown.paymentHash },
    );
  }
  return null;
}

/**
 * Asks, pays and verifies one checked option; returns the verified preimage. `open` (L402) is recorded as an
 * open payment just before the wallet is called and kept only while its outcome is unknown (a timeout).
 */
async function payOption(ctx: Ctx, url: URL, c: CheckedOption, open?: PendingPayment): Promise<string> {
  const { options, state } = ctx;
  const hash = c.invoice.paymentHash;
  const amountMsat = c.invoice.amountMsat;
  const amountSat = Math.ceil(amountMsat / 1000);
  const details = { url: url.href, amountSat, paymentHash: hash };
  if (options.maxAmountSat !== undefined && amountMsat > options.maxAmountSat * 1000) {
    throw new L402FetchError(
      'over_limit',
      `asks ${amountSat} sats, above the limit of ${options.maxAmountSat}`,
      details,
    );
  }
  if (state.attempted.has(hash)) {
    throw new L402FetchError('already_paid', 'this invoice was already paid (or attempted) once', details);
  }
  const info: ChallengeInfo = {
    url: url.href,
    origin: url.origin,
    scheme: c.option.scheme,
    reusable: c.option.reusable,
    amountSat,
    amountMsat,
    description: c.invoice.description,
    paymentHash: hash,
    invoice: c.invoice.paymentRequest,
    network: c.invoice.network,
    expiresAt: c.payableUntil,
  };
  if (options.onChallenge && (await options.onChallenge(info)) !== true) {
    throw new L402FetchError('refused', 'payment refused by onChallenge', details);
  }
  // Marked BEFORE paying: whatever happens next (even a timeout), this hash is never paid again by us.
  state.attempted.add(hash);
  if (open) await pendingOf(ctx).put(open);
  let preimage: string;
  try {
    preimage = (await ctx.wallet.payInvoice(c.invoice.paymentRequest)).preimage;
  } catch (e) {
    const code = e instanceof WalletError ? e.code : 'internal';
    if (open && code !== 'timeout') await pendingOf(ctx).remove(open.origin, open.paymentHash);
    if (code === 'rejected')
      throw new L402FetchError('refused', 'the wallet refused the payment', { ...details, cause: e });
    if (code === 'timeout') {
      throw new L402FetchError(
        'payment_unknown',
        'the wallet did not answer in time: the payment may have gone through',
        {
          ...details,
          cause: e,
        },
      );
    }
    throw new L402FetchError('payment_failed', `payment failed: ${e instanceof Error ? e.message : e}`, {
      ...details,
      cause: e,
    });
  }
  if (!verifyPreimage(preimage, hash)) {
    throw new L402FetchError('bad_preimage', 'the wallet returned a preimage that does not match the invoice', details);
  }
  return preimage.toLowerCase();
}

async function payL402(ctx: Ctx, url: URL, c: CheckedOption): Promise<L402Token> {
  if (c.option.scheme !== 'l402' || !c.macaroon) throw new Error('payL402 needs an L402 option');
  const open: PendingPayment = {
    ...scopeFor(c.macaroon.caveats, url),
    macaroon: c.option.challenge.macaroon,
    paymentHash: c.invoice.paymentHash,
    validUntil: validUntil(c.macaroon.caveats),
    createdAt: ctx.now(),
  };
  const preimage = await payOption(ctx, url, c, open);
  const token: L402Token = { ...open, preimage };
  // The token first: whoever no longer finds the open payment finds its token.
  await ctx.store.put(token);
  await pendingOf(ctx).remove(open.origin, open.paymentHash);
  return token;
}

/** The credential a one-time option is answered with, once paid. */
function oneTimeCredential(c: CheckedOption, preimage: string): Credential {
  if (c.option.scheme === 'payment') {
    return {
      header: 'authorization',
      value: formatPaymentCredential({ challenge: c.option.challenge, payload: { preimage } }),
    };
  }
  if (c.option.scheme === 'x402') {
    return {
      header: X402_SIGNATURE_HEADER,
      value: formatX402PaymentSignature(c.option.requirements, c.option.paymentRequired.resource),
    };
  }
  throw new Error('an L402 option is answered with its token');
}

const authorizationOf = (t: L402Token): Credential => ({
  header: 'authorization',
  value: formatAuthorization({ macaroons: [t.macaroon], preimage: t.preimage }),
});

/** The payment in flight whose token will cover `url`, if any. */
function inflightFor(ctx: Ctx, url: URL): Promise<L402Token> | null {
  for (const p of ctx.state.inflight) if (covers(p.scope, url)) return p.token;
  return null;
}

async function l402Fetch(ctx: Ctx, input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
  const req = await toReplayable(input, init);
  const url = req.url;

  // Another call is paying for a token that will cover this URL: wait for it instead of paying a second invoice.
  await inflightFor(ctx, url)?.catch(() => null);

  // The one policy (docs/design.md#credential-scope): a token covers its whole origin unless its caveats name a
  // path prefix, so a service-wide token (Aperture's) serves every path of the service without a second payment.
  const held = req.hasAuthorization ? null : await findToken(ctx.store, url, ctx.now());
  let res = await ctx.fetch(req.build(held && authorizationOf(held)));
  if (held && (res.status === 401 || res.status === 402)) {
    // The server does not accept the held token here (expired, revoked, or not enough for this request, such as a
    // "pair" token sent to a batch route): it covers this URL, so it is dropped and the new challenge is paid.
    await ctx.store.remove(held.origin, held.paymentHash);
    // A 401 with a fresh challenge (bLIP-0026) is a 402 in all but name; a bare 401 needs one plain request.
    if (res.status === 401 && demandOf(res).options.length === 0) {
      await discard(res);
      res = await ctx.fetch(req.build(null));
    }
  } else if (res.status !== 402) return res;
  if (res.status !== 402 && res.status !== 401) return res;

  const demand = demandOf(res);
  if (demand.options.length === 0) {
    const x402Body = demand.unsupported.length === 0 && (await isX402Body(res));
    if (demand.unsupported.length === 0 && !x402Body) return res; // asks for no payment scheme we know: the caller's business
    await discard(res);
    const l402Broken = demand.unsupported.some((u) => u.scheme === 'l402');
    const what = x402Body
      ? 'x402 (v1, in the body)'
      : demand.unsupported.map((u) => `${u.name} (${u.reason})`).join('; ');
    throw new L402FetchError(
      l402Broken ? 'invalid_challenge' : 'unsupported_challenge',
      `the server asks for a payment this toolkit cannot make: ${what}`,
      {
        url: url.href,
        demand,
      },
    );
  }
  const { chosen, refused } = chooseOption(demand, {
    now: ctx.now() / 1000, // the core checks invoices in unix seconds, as BOLT11 counts them
    expiryMarginSeconds: EXPIRY_MARGIN_SECONDS,
    ...(ctx.options.networks ? { networks: ctx.options.networks } : {}),
  });
  if (!chosen) {
    await discard(res);
    const cause = refused[0]?.error;
    throw new L402FetchError(
      'invalid_challenge',
      `no offered payment is safe to pay: ${cause?.code ?? 'malformed_challenge'}`,
      { url: url.href, demand, cause },
    );
  }
  // Never buy a token that cannot authorize the very request that got the challenge (expired, or scoped to other
  // paths): its retry would be refused, and nothing would stop paying again on every call.
  const scope = chosen.macaroon ? scopeFor(chosen.macaroon.caveats, url) : null;
  const tokenUntil = chosen.macaroon ? validUntil(chosen.macaroon.caveats) : null;
  const unusable =
    tokenUntil !== null && tokenUntil <= ctx.now()
      ? `the offered token expired at ${new Date(tokenUntil).toISOString()}`
      : scope && !covers(scope, url)
        ? `the offered token is for ${scope.pathPrefix}, not for ${url.pathname}`
        : null;
  if (unusable) {
    await discard(res);
    const cause = new L402Error('caveat_failed', unusable);
    throw new L402FetchError(
      'invalid_challenge',
      `the L402 challenge offers a token this request cannot use: ${unusable}`,
      {
        url: url.href,
        demand,
        cause,
      },
    );
  }

  const retry = async (credential: Credential, token: L402Token | null): Promise<Response> => {
    await discard(res);
    const again = await ctx.fetch(req.build(credential));
    if (again.status === 402 || again.status === 401) {
      // A fresh, verified credential refused: evict it and stop — paying again could loop forever.
      if (token) await ctx.store.remove(token.origin, token.paymentHash);
      throw new L402FetchError('retry_failed', `the server answered ${again.status} to a freshly paid credential`, {
        url: url.href,
        paymentHash: token?.paymentHash ?? chosen.invoice.paymentHash,
        response: again,
      });
    }
    return again;
  };

  if (chosen.option.scheme !== 'l402') {
    // A one-time charge pays for this request only: nothing to share with other calls, nothing to store.
    try {
      const preimage = await payOption(ctx, url, chosen);
      return await retry(oneTimeCredential(chosen, preimage), null);
    } catch (e) {
      await discard(res);
      throw e;
    }
  }
  // Another call may have started paying for a token covering this URL while we read our 402: use its token rather
  // than pay a second invoice. Loop because the payment we joined may fail and another call may have taken over.
  for (let other = inflightFor(ctx, url); other; other = inflightFor(ctx, url)) {
    const token = await other.catch(() => null);
    if (token) return retry(authorizationOf(token), token);
  }
  // Registered in the same tick as the check above (no await between), so concurrent 402s find it and share it.
  if (!scope) throw new Error('an L402 option carries its decoded macaroon');
  const payment: Inflight = {
    scope,
    token: resolveOpen(ctx, url).then((served) => served ?? payL402(ctx, url, chosen)),
  };
  ctx.state.inflight.add(payment);
  let token: L402Token;
  try {
    token = await payment.token;
  } catch (e) {
    await discard(res);
    throw e;
  } finally {
    ctx.state.inflight.delete(payment);
  }
  return retry(authorizationOf(token), token);
}

function contextOf(fetchImpl: typeof fetch, options: L402FetchOptions, store: TokenStore): Ctx {
  const now = options.now ?? Date.now;
  // Called as a plain function, never as `ctx.fetch(…)`: browsers throw "Illegal invocation" when window.fetch
  // runs with any `this` other than the window (or undefined).
  const send = (request: Request) => fetchImpl(request);
  const w = options.wallet as { lookupPayment?: unknown };
  const lookup =
    typeof w.lookupPayment === 'function'
      ? (h: string) => (w.lookupPayment as (h: string) => Promise<PaymentLookup>).call(w, h)
      : null;
  return {
    fetch: send as typeof fetch,
    wallet: walletFor(options.wallet),
    lookup,
    store,
    state: stateFor(store),
    options,
    now,
  };
}

/**
 * Returns a `fetch` that pays 402s: L402 (token kept and reused), the `Payment` scheme's Lightning charge and
 * x402's Lightning variant (paid once per request), through the same wallet, limits and `onChallenge`. Same signature as `fetch`; the caller's Request/init are never
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
 * One 402-aware request: like `fetch(input, init)`, paying a 402 (L402, Payment charge or x402 Lightning) with
 * `options.wallet`.
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
