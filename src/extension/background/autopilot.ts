// The entry the plumbing calls when a 402 is seen (docs/design.md#detect to #attach): parse with the core, reuse a
// valid token, guard against pay-retry loops, coalesce concurrent challenges for one scope into ONE payment,
// then decide → pay → token. The page origin (`initiator`) comes from the browser, never from a payload.
import { decodeMacaroon, isL402Error, type L402Challenge, parseL402Challenge, recognise402, validateChallenge } from '../../l402/index.ts';
import type { StoredToken } from '../shared/model.ts';
import { AutopilotError } from './errors.ts';
import { getPayment, updatePayment } from './ledger.ts';
import { resolveOpenFirst as resolveOpen } from './open-payments.ts';
import { createPaymentFlow, type FlowDeps, type PaymentFlow } from './payment-flow.ts';
import { type ResumeSummary, resumePending as resumePendingIn } from './payer.ts';
import { matchesPattern } from './rules.ts';
import {
  authorizationFor,
  authorizationOf,
  evictToken,
  findToken,
  grantToken,
  lastRejection,
  pathInScope,
  pathScopeOf,
  storeToken,
  validUntilOf,
} from './tokens.ts';

/** A token that expires sooner than this after purchase is not worth buying (it could not carry the retry). */
const USABLE_FOR_MS = 5_000;

export interface AutopilotDeps extends FlowDeps {
  /** A service that 402s a token younger than this is not paid again for as long (default 60 s). */
  loopGuardMs?: number;
}

/** A 402 the plumbing saw. */
export interface ChallengeRequest {
  /** The URL that answered 402. */
  serviceUrl: string;
  /** Its origin; must agree with `serviceUrl` (checked). */
  serviceOrigin?: string;
  /** Origin of the page that made the request, from `sender`/the tab — never from a page payload. */
  initiator: string;
  tabId?: number;
  /** The response's WWW-Authenticate value(s) (webRequest gives a list, fetch one joined string). */
  wwwAuthenticate: string[] | string;
  source: 'fetch' | 'navigation';
  /**
   * True when the browser itself saw this 402 and challenge for `serviceUrl` (webRequest.onHeadersReceived);
   * false/absent when only the page's MAIN-world wrapper reported it. A page can forge what it reports, so an
   * unconfirmed challenge for ANOTHER origin is never auto-paid: the user is always asked (a page cannot make
   * us silently pay a forged invoice in another service's name, not even within its own budget; docs/design.md#secure).
   */
  confirmedByBrowser?: boolean;
  /** The tab's top-level site when a frame of another site made the request: never auto-paid. */
  topSite?: string;
}

export interface ChallengeResult {
  /** `L402 <macaroon>:<preimage>` for the retry. */
  authorization: string;
  token: StoredToken;
  /** Whether THIS call made the payment (false: reused a token or joined another call's payment). */
  paid: boolean;
}

export interface Autopilot {
  readonly flow: PaymentFlow;
  /** Handles a 402: resolves with the header to retry with, or throws AutopilotError. */
  handleChallenge(req: ChallengeRequest): Promise<ChallengeResult>;
  /** The header for a later request to `url` by a page at `pageOrigin` (null: none it may see). */
  authorizationFor(url: string, pageOrigin: string): Promise<string | null>;
  /** The server rejected `authorization` (401, or 402 to a token): forget that token. */
  tokenRejected(url: string, authorization: string): Promise<{ evicted: boolean }>;
  /** At worker start: resolve payments left pending/unknown (never pays). Every handler awaits the pass in progress. */
  resumePending(): Promise<ResumeSummary>;
  /**
   * resumePending, then again after each delay while some outcome is still unknown; what is still unknown after
   * the last pass is marked "still unknown — check your wallet" in the ledger (it stays reserved).
   */
  resumeUntilKnown(delaysMs: readonly number[], sleep?: (ms: number) => Promise<void>): Promise<ResumeSummary>;
}

/** The ledger's word for a payment the wallet would not settle either way after every resume pass. */
export const STILL_UNKNOWN = 'still unknown — check your wallet; its amount stays reserved until the wallet tells';

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Creates the autopilot. Keep one per background lifetime; all durable state is in `deps.storage`.
 * @example
 * const autopilot = createAutopilot({ storage: browserStorage(browser.storage.local), clock: Date.now, wallet, prompt });
 * const { authorization } = await autopilot.handleChallenge({ serviceUrl, initiator: sender.origin, wwwAuthenticate, source: 'fetch' });
 */
export function createAutopilot(deps: AutopilotDeps): Autopilot {
  const flow = createPaymentFlow(deps);
  const loopGuardMs = deps.loopGuardMs ?? 60_000;
  const inflight = new Map<string, Promise<ChallengeResult>>();
  // The resume pass in progress (started at worker start): a handler meeting an open payment waits for it.
  let resuming: Promise<ResumeSummary> | null = null;

  async function walletOrNull(tabId?: number) {
    const settings = await flow.settings();
    if (settings.wallet.kind === 'none') return null;
    try {
      return await deps.wallet(tabId === undefined ? {} : { tabId });
    } catch {
      return null; // no wallet now: what is open stays open (and reserved)
    }
  }

  /** An open payment covering this scope is resolved first (open-payments.ts); its token serves once it succeeded. */
  async function resolveOpenFirst(req: ChallengeRequest, origin: string): Promise<ChallengeResult | null> {
    const t = await resolveOpen(deps, { serviceUrl: req.serviceUrl, origin, initiator: req.initiator }, { wallet: () => walletOrNull(req.tabId), resuming });
    return t ? { authorization: authorizationOf(t), token: t, paid: false } : null;
  }

  async function parse(req: ChallengeRequest): Promise<{ origin: string; challenge: L402Challenge }> {
    let url: URL;
    try {
      url = new URL(req.serviceUrl);
    } catch {
      throw new AutopilotError('invalid_challenge', 'the URL that asked for payment is not valid');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AutopilotError('invalid_challenge', 'only http(s) services can be paid');
    }
    if (req.serviceOrigin !== undefined && req.serviceOrigin !== url.origin) {
      throw new AutopilotError('invalid_challenge', 'the service origin does not match its URL');
    }
    try {
      return { origin: url.origin, challenge: parseL402Challenge(req.wwwAuthenticate) };
    } catch (e) {
      if (isL402Error(e, 'unsupported_scheme')) {
        const demand = recognise402({ wwwAuthenticate: req.wwwAuthenticate });
        const what = demand.kind === 'payment' ? `a "Payment" challenge (method ${demand.params.method ?? 'unknown'})` : 'no L402 challenge';
        throw new AutopilotError('unsupported_challenge', `this site asks for ${what}, which cannot be paid yet`, { cause: e });
      }
      throw new AutopilotError('invalid_challenge', `the payment request is broken: ${describeError(e)}`, {
        cause: e,
        coreCode: isL402Error(e) ? e.code : undefined,
      });
    }
  }

  async function payChallenge(req: ChallengeRequest, origin: string, challenge: L402Challenge): Promise<ChallengeResult> {
    const settings = await flow.settings();
    // The tab that raised the 402 is the one whose WebLN provider pays (wallet kind 'webln').
    const wallet = await flow.wallet(settings, req.tabId === undefined ? {} : { tabId: req.tabId });
    let validated: ReturnType<typeof validateChallenge>;
    try {
      // Invoice sanity (docs/design.md#the-extension: hash match, not expired, network, non-zero amount) before any rule or money.
      validated = validateChallenge(challenge, {
        now: deps.clock() / 1000,
        networks: await flow.networks(wallet),
        expiryMarginSeconds: 5,
      });
    } catch (e) {
      throw new AutopilotError('invalid_challenge', `the invoice cannot be paid: ${describeError(e)}`, {
        cause: e,
        coreCode: isL402Error(e) ? e.code : undefined,
      });
    }
    const { record, paid } = await flow.pay(
      {
        intent: {
          invoice: validated.invoice,
          origin,
          initiator: req.initiator,
          url: req.serviceUrl,
          kind: 'l402',
          macaroon: challenge.macaroon,
          mustAsk:
            req.topSite !== undefined && req.topSite !== req.initiator
              ? `a frame from ${req.initiator} inside ${req.topSite} (the site you are on) asked to pay ${origin}; a frame of another site is never paid automatically, from either site's budget`
              : req.initiator === 'null'
              ? `a document with no origin of its own (a sandboxed frame or a data: page) asked to pay ${origin}; that is never paid automatically`
              : req.confirmedByBrowser !== true && origin !== req.initiator
                ? `${req.initiator} reported this payment request for ${origin}; the browser did not confirm it, so it is not paid automatically`
                : undefined,
        },
        promptKind: 'l402',
      },
      wallet,
      settings,
    );
    // Only this service's and this page's own payment is ever shared (payer.ts `sameScope`); say no otherwise.
    if (record.origin !== origin || record.initiator !== req.initiator) {
      throw new AutopilotError('payment_failed', 'the wallet could not pay this invoice');
    }
    // The payer stores the token on success; a record paid earlier (resumed) may need it granted to this page.
    const token =
      (await grantToken(deps, record.paymentHash, req.initiator)) ??
      (record.preimage && record.macaroon
        ? await storeToken(deps, {
            paymentHash: record.paymentHash,
            origin,
            macaroon: record.macaroon,
            preimage: record.preimage,
            grantedTo: [req.initiator],
          })
        : null);
    if (!token) throw new AutopilotError('payment_failed', 'paid, but no token could be stored');
    return { authorization: authorizationOf(token), token, paid };
  }

  async function handleChallenge(req: ChallengeRequest): Promise<ChallengeResult> {
    const settings = await flow.settings();
    // docs/design.md#rules-semantics order: global off, then deny list, before even reading the challenge.
    if (!settings.rules.enabled) throw new AutopilotError('denied', 'not paid: L402 Autopilot is switched off');
    const { origin, challenge } = await parse(req);
    // Budgets belong to the initiator (rules.ts), but a denied service is refused whichever page calls it.
    const denied = settings.rules.deny.find((p) => matchesPattern(p, origin) || matchesPattern(p, req.initiator));
    if (denied !== undefined) throw new AutopilotError('denied', `not paid: this site is on your deny list (${denied})`);

    let paymentHash: string;
    let scope: string;
    let validUntil: number | null;
    try {
      const mac = decodeMacaroon(challenge.macaroon);
      paymentHash = mac.paymentHash;
      scope = pathScopeOf(mac.caveats);
      validUntil = validUntilOf(mac.caveats);
    } catch (e) {
      throw new AutopilotError('invalid_challenge', `the payment request is broken: ${describeError(e)}`, {
        cause: e,
        coreCode: isL402Error(e) ? e.code : undefined,
      });
    }

    // Never buy a token that cannot authorize the very request that got the challenge: the server's next 402
    // would not look like a rejection (no token covers it), so nothing else would stop paying on every call.
    const path = new URL(req.serviceUrl).pathname;
    if (!pathInScope(path, scope)) {
      throw new AutopilotError('unusable_token', `not paid: the token ${origin} sells is for ${scope}, not for ${path}`);
    }
    if (validUntil !== null && validUntil <= deps.clock() + USABLE_FOR_MS) {
      throw new AutopilotError('unusable_token', `not paid: the token ${origin} sells has already expired (${new Date(validUntil).toISOString()})`);
    }

    // A token this page may use already covers the URL: no payment.
    const existing = await findToken(deps, req.serviceUrl, req.initiator);
    if (existing) return { authorization: authorizationOf(existing), token: existing, paid: false };
    // This very invoice was paid already (e.g. seen by webRequest and by the page wrapper).
    const paid = await getPayment(deps.storage, paymentHash);
    if (paid?.status === 'succeeded' && paid.macaroon === challenge.macaroon && paid.initiator === req.initiator) {
      const t = await findToken(deps, req.serviceUrl);
      if (t?.paymentHash === paymentHash) return { authorization: authorizationOf(t), token: t, paid: false };
    }

    // Loop guard (docs/design.md#attach): the service 402'd a token it had just sold us: do not pay again yet.
    const rejection = await lastRejection(deps, req.serviceUrl);
    if (rejection && rejection.tokenAgeMs < loopGuardMs && deps.clock() - rejection.rejectedAt < loopGuardMs) {
      throw new AutopilotError(
        'loop_guard',
        `${origin} rejected a token it issued ${Math.round(rejection.tokenAgeMs / 1000)} s earlier; not paying it again for now`,
      );
    }

    // Coalesce: concurrent challenges for the same page + service scope, or the same invoice of that page and
    // service, make ONE payment. Never across pages or services: a payment hash is no secret (payer.ts `sameScope`).
    const keys = [`scope ${req.initiator} ${origin}${scope}`, `hash ${req.initiator} ${origin} ${paymentHash}`];
    for (const k of keys) {
      const running = inflight.get(k);
      if (running) return running.then((r) => ({ ...r, paid: false }));
    }
    const run = resolveOpenFirst(req, origin).then((served) => served ?? payChallenge(req, origin, challenge));
    for (const k of keys) inflight.set(k, run);
    try {
      return await run;
    } finally {
      for (const k of keys) if (inflight.get(k) === run) inflight.delete(k);
    }
  }

  function resumePending(): Promise<ResumeSummary> {
    const pass = (async () => resumePendingIn({ storage: deps.storage, clock: deps.clock, wallet: await walletOrNull() }))();
    resuming = pass;
    return pass;
  }

  return {
    flow,
    handleChallenge,
    authorizationFor: (url, pageOrigin) => authorizationFor(deps, url, pageOrigin),
    tokenRejected: async (url, authorization) => ({ evicted: await evictToken(deps, url, authorization) }),
    resumePending,
    async resumeUntilKnown(delaysMs, sleep = (ms) => new Promise((r) => setTimeout(r, ms))) {
      let summary = await resumePending();
      for (const ms of delaysMs) {
        if (summary.stillUnknown.length === 0) return summary;
        await sleep(ms);
        summary = await resumePending();
      }
      for (const hash of summary.stillUnknown) {
        await updatePayment(deps.storage, hash, { error: STILL_UNKNOWN }, { onlyIf: ['pending', 'unknown'] });
      }
      return summary;
    },
  };
}
