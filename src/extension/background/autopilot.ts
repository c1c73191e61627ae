// The entry the plumbing calls when a 402 is seen (docs/design.md#detect to #attach): parse with the core, reuse a
// valid token, guard against pay-retry loops, coalesce concurrent challenges for one scope into ONE payment,
// then decide → pay → token. The page origin (`initiator`) comes from the browser, never from a payload.
import {
  chooseOption,
  decodeMacaroon,
  isL402Error,
  type L402Challenge,
  parseL402Challenge,
  pathInScope,
  pathScope,
  validateChallenge,
  validUntil,
} from '../../l402/index.ts';
import type { StoredToken } from '../model/model.ts';
import { demandOf, type OneTimeOption, oneTimeCredential, unsupportedText } from './demand.ts';
import { AutopilotError } from './errors.ts';
import { getPayment, updatePayment } from './ledger.ts';
import { resolveOpenFirst as resolveOpen } from './open-payments.ts';
import { createPaymentFlow, type FlowDeps, type PaymentFlow } from './payment-flow.ts';
import { type ResumeSummary, resumePending as resumePendingIn } from './payer.ts';
import { matchesPattern } from './rules.ts';
import {
  attachFor,
  authorizationFor,
  authorizationOf,
  evictToken,
  revokeToken,
  findToken,
  grantToken,
  lastRejection,
  storeToken,
} from './tokens.ts';
import { errorMessage } from '../../util/error-message.ts';

/** A token that expires sooner than this after purchase is not worth buying (it could not carry the retry). */
const USABLE_FOR_MS = 5_000;

export interface AutopilotDeps extends FlowDeps {
  /** A service that 402s a token younger than this is not paid again for as long (default 60 s). */
  loopGuardMs?: number;
  /**
   * Drops the DNR header rules that carry a credential (header-rules.ts), so forgetting a token is one operation:
   * {@link Autopilot.tokenRejected} and {@link Autopilot.revokeToken} call it. Absent in tests without DNR.
   */
  dropHeaderRules?: (carries: { authorization?: string; paymentHash?: string }) => Promise<unknown>;
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
  /** x402's PAYMENT-REQUIRED header, when the response had one. */
  paymentRequired?: string | null;
  /**
   * Only a reusable L402 token may be bought: the request that got this answer cannot be retried with a one-time
   * credential (a cross-origin response the page could not see), so a charge would buy nothing.
   */
  reusableOnly?: boolean;
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

/** A one-time charge (`Payment` or x402) paid for ONE retry: never stored as a token. */
interface OneTimeResult {
  oneTime: true;
  scheme: 'payment' | 'x402';
  /** The header to set on the retry (`Authorization` or `PAYMENT-SIGNATURE`) and its value. */
  header: string;
  authorization: string;
  paymentHash: string;
  paid: boolean;
}

/** What {@link Autopilot.handleDemand} resolves with: a token's header, or a one-time credential. */
export type DemandResult =
  | (ChallengeResult & { oneTime: false; scheme: 'l402'; header: 'Authorization' })
  | OneTimeResult;

export interface Autopilot {
  readonly flow: PaymentFlow;
  /** Handles a 402 whose payable option is L402: resolves with the header to retry with, or throws AutopilotError. */
  handleChallenge(req: ChallengeRequest): Promise<ChallengeResult>;
  /**
   * Handles any 402 (or a 401 re-challenge): the core chooses ONE option — a reusable L402 token first, else the
   * cheapest — and it is paid through the same rules, reservations, ledger and prompts. Throws AutopilotError.
   */
  handleDemand(req: ChallengeRequest): Promise<DemandResult>;
  /** The header for a later request to `url` by a page at `pageOrigin` (null: none it may see). */
  authorizationFor(url: string, pageOrigin: string): Promise<string | null>;
  /** The same, for a header the page attaches to a new request (marks the token as having served again). */
  attachFor(url: string, pageOrigin: string): Promise<string | null>;
  /**
   * The server rejected `authorization` (401, or 402 to a token): forget that token (the store and every header
   * rule carrying it) and arm the loop guard.
   */
  tokenRejected(url: string, authorization: string): Promise<{ evicted: boolean }>;
  /** The user revoked the token of `paymentHash`: forget it, and the header rules carrying it. */
  revokeToken(paymentHash: string): Promise<{ revoked: boolean }>;
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
  return errorMessage(e);
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
    const t = await resolveOpen(
      deps,
      { serviceUrl: req.serviceUrl, origin, initiator: req.initiator },
      { wallet: () => walletOrNull(req.tabId), resuming },
    );
    return t ? { authorization: authorizationOf(t), token: t, paid: false } : null;
  }

  function originOf(req: ChallengeRequest): string {
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
    return url.origin;
  }

  async function parse(req: ChallengeRequest): Promise<{ origin: string; challenge: L402Challenge }> {
    const origin = originOf(req);
    try {
      return { origin, challenge: parseL402Challenge(req.wwwAuthenticate) };
    } catch (e) {
      if (isL402Error(e, 'unsupported_scheme')) {
        const what =
          unsupportedText(demandOf(req.wwwAuthenticate, req.paymentRequired)) ?? 'no challenge this extension can pay';
        throw new AutopilotError('unsupported_challenge', `not paid: this site asks for ${what}`, { cause: e });
      }
      throw new AutopilotError('invalid_challenge', `the payment request is broken: ${describeError(e)}`, {
        cause: e,
        coreCode: isL402Error(e) ? e.code : undefined,
      });
    }
  }

  function mustAskOf(req: ChallengeRequest, origin: string): string | undefined {
    if (req.topSite !== undefined && req.topSite !== req.initiator) {
      return `a frame from ${req.initiator} inside ${req.topSite} (the site you are on) asked to pay ${origin}; a frame of another site is never paid automatically, from either site's budget`;
    }
    if (req.initiator === 'null') {
      return `a document with no origin of its own (a sandboxed frame or a data: page) asked to pay ${origin}; that is never paid automatically`;
    }
    if (req.confirmedByBrowser !== true && origin !== req.initiator) {
      return `${req.initiator} reported this payment request for ${origin}; the browser did not confirm it, so it is not paid automatically`;
    }
    return undefined;
  }

  async function payChallenge(
    req: ChallengeRequest,
    origin: string,
    challenge: L402Challenge,
  ): Promise<ChallengeResult> {
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
          serviceOrigin: origin,
          initiator: req.initiator,
          url: req.serviceUrl,
          kind: 'l402',
          macaroon: challenge.macaroon,
          mustAsk: mustAskOf(req, origin),
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
    if (denied !== undefined)
      throw new AutopilotError('denied', `not paid: this site is on your deny list (${denied})`);

    let paymentHash: string;
    let scope: string;
    let expiresAt: number | null;
    try {
      const mac = decodeMacaroon(challenge.macaroon);
      paymentHash = mac.paymentHash;
      scope = pathScope(mac.caveats) ?? '/';
      expiresAt = validUntil(mac.caveats);
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
      throw new AutopilotError(
        'unusable_token',
        `not paid: the token ${origin} sells is for ${scope}, not for ${path}`,
      );
    }
    if (expiresAt !== null && expiresAt <= deps.clock() + USABLE_FOR_MS) {
      throw new AutopilotError(
        'unusable_token',
        `not paid: the token ${origin} sells has already expired (${new Date(expiresAt).toISOString()})`,
      );
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
    // A token that had served before (or simply expired) is no loop: its successor is bought at once.
    const rejection = await lastRejection(deps, req.serviceUrl);
    if (
      rejection &&
      rejection.servedBefore !== true &&
      rejection.tokenAgeMs < loopGuardMs &&
      deps.clock() - rejection.rejectedAt < loopGuardMs
    ) {
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

  /** A one-time option chosen by the core: decide → reserve → pay → verify, then a credential for one retry. */
  async function payOneTime(
    req: ChallengeRequest,
    origin: string,
    chosen: { option: OneTimeOption; invoice: Parameters<PaymentFlow['pay']>[0]['intent']['invoice'] },
    wallet: Awaited<ReturnType<PaymentFlow['wallet']>>,
  ): Promise<OneTimeResult> {
    const settings = await flow.settings();
    const { option } = chosen;
    const { record, paid } = await flow.pay(
      {
        intent: {
          invoice: chosen.invoice,
          serviceOrigin: origin,
          initiator: req.initiator,
          url: req.serviceUrl,
          kind: option.scheme,
          macaroon: null,
          mustAsk: mustAskOf(req, origin),
        },
        promptKind: option.scheme,
      },
      wallet,
      settings,
    );
    if (record.origin !== origin || record.initiator !== req.initiator || !record.preimage) {
      throw new AutopilotError('payment_failed', 'the wallet could not pay this invoice');
    }
    const credential = oneTimeCredential(option, record.preimage);
    return {
      oneTime: true,
      scheme: option.scheme,
      header: credential.header,
      authorization: credential.value,
      paymentHash: record.paymentHash,
      paid,
    };
  }

  async function handleDemand(req: ChallengeRequest): Promise<DemandResult> {
    const asToken = async (): Promise<DemandResult> => ({
      ...(await handleChallenge(req)),
      oneTime: false,
      scheme: 'l402',
      header: 'Authorization',
    });
    const demand = demandOf(req.wwwAuthenticate, req.paymentRequired);
    const hasL402 = demand.options.some((o) => o.scheme === 'l402');
    const oneTime = demand.options.some((o) => !o.reusable);
    // Only L402 on offer (or nothing payable at all): the token path, with its own checks and messages.
    if (!oneTime) return asToken();
    const settings = await flow.settings();
    if (!settings.rules.enabled) throw new AutopilotError('denied', 'not paid: L402 Autopilot is switched off');
    const origin = originOf(req);
    if (req.reusableOnly) {
      if (hasL402) return asToken();
      throw new AutopilotError(
        'unsupported_challenge',
        `not paid: ${origin} asks for a one-time charge, and the page could not read this response to use it`,
      );
    }
    const denied = settings.rules.deny.find((p) => matchesPattern(p, origin) || matchesPattern(p, req.initiator));
    if (denied !== undefined)
      throw new AutopilotError('denied', `not paid: this site is on your deny list (${denied})`);
    // A token this page holds for the URL serves before anything is bought.
    if (hasL402 && (await findToken(deps, req.serviceUrl, req.initiator))) return asToken();
    const wallet = await flow.wallet(settings, req.tabId === undefined ? {} : { tabId: req.tabId });
    const { chosen, refused } = chooseOption(demand, {
      now: deps.clock() / 1000,
      networks: await flow.networks(wallet),
      expiryMarginSeconds: 5,
    });
    if (!chosen) {
      const e = refused[0]?.error;
      throw new AutopilotError(
        'invalid_challenge',
        `the invoice cannot be paid: ${e?.message ?? 'no option is payable'}`,
        { cause: e, coreCode: e?.code },
      );
    }
    if (chosen.option.scheme === 'l402') return asToken();
    return payOneTime(req, origin, { option: chosen.option as OneTimeOption, invoice: chosen.invoice }, wallet);
  }

  function resumePending(): Promise<ResumeSummary> {
    const pass = (async () =>
      resumePendingIn({ storage: deps.storage, clock: deps.clock, wallet: await walletOrNull() }))();
    resuming = pass;
    return pass;
  }

  return {
    flow,
    handleChallenge,
    handleDemand,
    authorizationFor: (url, pageOrigin) => authorizationFor(deps, url, pageOrigin),
    attachFor: (url, pageOrigin) => attachFor(deps, url, pageOrigin),
    async tokenRejected(url, authorization) {
      const evicted = await evictToken(deps, url, authorization);
      await deps.dropHeaderRules?.({ authorization });
      return { evicted };
    },
    async revokeToken(paymentHash) {
      const revoked = await revokeToken(deps, paymentHash);
      await deps.dropHeaderRules?.({ paymentHash });
      return { revoked };
    },
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
