// Sees every 402 the browser receives (docs/design.md#detect) through webRequest.onHeadersReceived (observe only,
// ['responseHeaders']). It acts only where the MAIN-world wrapper cannot: top-level navigations (pay, add
// a DNR rule, tabs.update — not reload, docs/design.md#browser-testing) and cross-origin requests whose challenge the page
// cannot read (pay, add a DNR rule for later requests). Same-origin and CORS-exposed 402s are left to the
// wrapper so one 402 is never handled twice. It never re-requests a URL to read a challenge.
import { challengeLines, demandOf, mayCarryDemand, splitLines, unsupportedText } from './demand.ts';
import type { PaymentDemand } from '../../l402/index.ts';
import type { ChallengeScheme } from '../model/model.ts';
import { AutopilotError } from './errors.ts';
import type { HeaderRule, RuleResourceType } from './header-rules.ts';

export interface Seen402 {
  url: string;
  tabId: number;
  type: string;
  initiator?: string;
  wwwAuthenticate: string[];
  /** x402's PAYMENT-REQUIRED, when sent. */
  paymentRequired?: string | null;
  headers: { name: string; value?: string }[];
}

export interface DetectorDeps {
  /** One more 402 in the tab, offering these schemes (badge.ts). */
  countChallenge(tabId: number, schemes: ChallengeScheme[]): Promise<void>;
  /** Every payment demand the browser delivered, so a page's claim about one can be checked (seen-challenges.ts). */
  remember(tabId: number, url: string, lines: string[]): Promise<void>;
  resetTab(tabId: number): Promise<void>;
  /** A new top-level document at `origin` in the tab: rules left for other pages go (header-rules.ts). */
  pageChanged(tabId: number, origin: string): Promise<void>;
  /** Pays or reuses a token; resolves with the header and its scope. */
  handle(req: {
    serviceUrl: string;
    initiator: string;
    tabId: number;
    wwwAuthenticate: string[];
    paymentRequired?: string;
    /** A hidden cross-origin response: only a reusable token can serve the page's later requests. */
    reusableOnly?: boolean;
    source: 'fetch' | 'navigation';
    /** Always true here: the browser delivered this 402 (autopilot.ts uses it to allow auto-pay). */
    confirmedByBrowser: true;
    /** The tab's top-level site, when a frame of another site made the request (never auto-paid then). */
    topSite?: string;
  }): Promise<{
    authorization: string;
    origin: string;
    pathPrefix: string;
    paymentHash: string;
    validUntil: number | null;
    /** Set for a one-time charge: the header to attach to the ONE navigation it was bought for. */
    oneTime?: { header: string };
  }>;
  /** The header rule that served this request of `initiator`'s page (so this 402 rejects that token). */
  existingRule(
    tabId: number,
    url: string,
    type: RuleResourceType,
    initiator: string | undefined,
  ): Promise<Pick<HeaderRule, 'authorization'> | null>;
  /**
   * The Authorization the request actually left with (webRequest.onSendHeaders shows DNR's header): null for
   * none, undefined when this worker did not see it leave (it was restarted meanwhile).
   */
  sentWith(requestId: string): string | null | undefined;
  tokenRejected(url: string, authorization: string, tabId: number): Promise<void>;
  addRule(r: Omit<HeaderRule, 'id'>): Promise<void>;
  navigate(tabId: number, url: string): Promise<void>;
  /** Origin of the tab's top-level document (the site the user is on); "null" when it cannot be told. */
  topOrigin(d: chrome.webRequest.OnHeadersReceivedDetails): Promise<string>;
  /**
   * Firefox only (see {@link unnamedNavigation}): what each tab showed, for top-level navigations Firefox names no
   * initiator for. Absent in Chromium, which names an opaque initiator "null".
   */
  firefoxTabs?: {
    before(tabId: number): Promise<TabBefore>;
    /** The tab now shows a document of `origin` (a response that is not a payment demand or a redirect). */
    showed(tabId: number, origin: string): Promise<void>;
  };
  report(e: unknown, where: Seen402): void;
}

/**
 * The values of one response header. Chrome gives a repeated header as several entries; Firefox as one entry
 * whose lines are joined with "\n" (Aperture and our server send each challenge on its own line): both become
 * one value per line.
 */
const headerValues = (headers: { name: string; value?: string }[], name: string) =>
  headers
    .filter((h) => h.name.toLowerCase() === name && h.value !== undefined)
    .flatMap((h) => (h.value as string).split('\n'))
    .map((v) => v.trim())
    .filter((v) => v !== '');

/**
 * Could page script read this response's payment demand (so the MAIN-world wrapper handles it)? Not when CORS
 * hides a header from another origin's script, and never a `WWW-Authenticate` that came as several lines in
 * Firefox: it joins them with a newline, which the Fetch standard forbids in a header value, so page scripts get
 * no such header at all (docs/design.md#challenge). Raw entries are read here, before splitLines.
 */
export function pageCanSeeChallenge(s: Seen402): boolean {
  const raw = s.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate' && h.value !== undefined);
  if (raw.some((h) => (h.value as string).includes('\n'))) return false;
  const target = new URL(s.url).origin;
  if (!s.initiator || s.initiator === target) return true;
  const acao = headerValues(s.headers, 'access-control-allow-origin')[0]?.trim();
  if (acao !== '*' && acao !== s.initiator) return false;
  const exposed = headerValues(s.headers, 'access-control-expose-headers')
    .join(',')
    .split(',')
    .map((x) => x.trim().toLowerCase());
  const readable = (name: string) => exposed.includes(name) || exposed.includes('*');
  // An x402-only 402 has no WWW-Authenticate to expose; any other needs it exposed (and PAYMENT-REQUIRED, if sent).
  const xOnly = raw.length === 0 && !!s.paymentRequired;
  return (xOnly || readable('www-authenticate')) && (!s.paymentRequired || readable('payment-required'));
}

/**
 * Could page script read this cross-origin response at all (CORS lets the initiator see it)? When not, the
 * fetch fails in the page whatever we attach, so a payment would buy nothing.
 */
function pageCanReadResponse(s: Seen402): boolean {
  const target = new URL(s.url).origin;
  if (!s.initiator || s.initiator === target) return true;
  const acao = headerValues(s.headers, 'access-control-allow-origin')[0]?.trim();
  return acao === '*' || acao === s.initiator;
}

/**
 * Whose payment a top-level navigation is. Started by the browser (typed, bookmark, reload: no initiator) or
 * by the service's own page: the service's own. Started by another site (window.open, a script moving
 * `location`, a form post, a redirect through it): that site's — its rules decide, or the user is asked.
 * An opaque initiator stays "null" (never auto-paid, autopilot.ts).
 */
function navigationPayer(serviceOrigin: string, initiator: string | undefined): string {
  return initiator === undefined || initiator === serviceOrigin ? serviceOrigin : initiator;
}

/**
 * The origin of the page that made the request. Chrome gives `initiator`; Firefox gives `documentUrl` (the
 * requesting document) and `originUrl` instead (webextension-polyfill does not unify this).
 */
export function initiatorOf(d: { initiator?: string; documentUrl?: string; originUrl?: string }): string | undefined {
  if (d.initiator) return d.initiator;
  const url = d.documentUrl ?? d.originUrl;
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'null';
  }
  // Web documents (and blob: URLs, which carry their creator's origin) are who they say.
  if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'blob:') return u.origin;
  // Firefox names the browser or an extension as the initiator of loads they start (moz-extension:, chrome:,
  // resource:): those are the browser's own, like Chrome's missing initiator. Anything else — data:, and about:blank
  // or about:srcdoc documents that a page creates and scripts — is opaque: "null", as Chrome reports it, never
  // "no initiator" (that would read as the service's own and spend its budget).
  if (u.protocol === 'moz-extension:' || u.protocol === 'chrome:' || u.protocol === 'resource:') return undefined;
  return 'null';
}

/** The schemes a demand offers to be paid by; a broken challenge still names its scheme. */
function offeredSchemes(demand: PaymentDemand): ChallengeScheme[] {
  if (demand.options.length > 0) return demand.options.map((o) => o.scheme);
  return demand.schemes.flatMap((s): ChallengeScheme[] => {
    const k = s.toLowerCase();
    return k === 'l402' || k === 'lsat' ? ['l402'] : k === 'payment' ? ['payment'] : [];
  });
}

/**
 * What a tab showed before a navigation: opened by another tab and nothing shown yet; the origin it last showed.
 * A 402 page does not count as shown: Firefox may send one navigation's request twice, and the second must be
 * judged like the first.
 */
export interface TabBefore {
  openedByPage: boolean;
  lastOrigin: string | undefined;
}

/**
 * Firefox gives no `originUrl` both for a navigation the browser started (typed, bookmark, reload) and for one a
 * document with no origin started (a sandboxed frame moving the top window or opening a popup, a CSP-sandboxed
 * page). Told apart by the tab: a popup a page opened, or a tab that showed another site, is opaque ("null": asked,
 * never the service's own budget); a fresh tab, or one already on the service, is the browser's own.
 */
export function unnamedNavigation(tab: TabBefore, serviceOrigin: string): 'null' | undefined {
  if (tab.openedByPage) return 'null';
  return tab.lastOrigin !== undefined && tab.lastOrigin !== serviceOrigin ? 'null' : undefined;
}

/** The onHeadersReceived listener body. Returns a promise only so tests can await it. */
export async function on402(deps: DetectorDeps, d: chrome.webRequest.OnHeadersReceivedDetails): Promise<void> {
  if (d.tabId < 0) return;
  const named = initiatorOf(d);
  const fx = d as { originUrl?: string; documentUrl?: string };
  const tabs = d.type === 'main_frame' ? deps.firefoxTabs : undefined;
  const startedBy =
    named === undefined && tabs && !d.initiator && !fx.originUrl && !fx.documentUrl
      ? unnamedNavigation(await tabs.before(d.tabId), new URL(d.url).origin)
      : named;
  if (tabs && d.statusCode !== 402 && d.statusCode !== 401 && (d.statusCode < 300 || d.statusCode > 399))
    await tabs.showed(d.tabId, new URL(d.url).origin);
  // Before the new document's scripts run; not on a redirect (the final response decides whose page it is).
  if (d.type === 'main_frame' && (d.statusCode < 300 || d.statusCode > 399))
    await deps.pageChanged(d.tabId, new URL(d.url).origin);
  const headers = d.responseHeaders ?? [];
  // Firefox hands repeated header lines over as ONE value joined by newlines (Chromium: one entry per line).
  const www = splitLines(headerValues(headers, 'www-authenticate'));
  const paymentRequired = headerValues(headers, 'payment-required')[0] ?? null;
  // A 401 is a re-challenge only when it carries a demand (bLIP-0026: an invalid or expired credential).
  const rechallenge = d.statusCode === 401 && mayCarryDemand(www, paymentRequired);
  if (d.type === 'main_frame' && d.statusCode !== 402 && !rechallenge) return deps.resetTab(d.tabId);
  if (d.statusCode !== 402 && !rechallenge) return;
  const seen: Seen402 = {
    url: d.url,
    tabId: d.tabId,
    type: d.type,
    initiator: startedBy,
    wwwAuthenticate: www,
    paymentRequired,
    headers,
  };
  if (!mayCarryDemand(www, paymentRequired)) {
    await deps.countChallenge(d.tabId, []);
    return;
  }
  // Remember first: the page may ask about this 402 as soon as it has it.
  await deps.remember(d.tabId, d.url, challengeLines(www, paymentRequired));
  // Recognised but not payable (x402 on another network, an unknown method): said so, never counted or paid.
  const demand = demandOf(www, paymentRequired);
  const unsupported = unsupportedText(demand);
  if (unsupported !== null) {
    deps.report(
      new AutopilotError('unsupported_challenge', `not paid: ${new URL(d.url).origin} asks for ${unsupported}`),
      seen,
    );
    return;
  }
  if (!rechallenge) await deps.countChallenge(d.tabId, offeredSchemes(demand));
  const nav = d.type === 'main_frame';
  if (!nav && (d.type !== 'xmlhttprequest' || pageCanSeeChallenge(seen))) return;
  const type: RuleResourceType = nav ? 'main_frame' : 'xmlhttprequest';
  try {
    // A 402 despite our header: that token is refused; the autopilot's loop guard decides about paying again.
    // Another page's 402 (a frame, say) says nothing about a token that was never attached to it.
    const prior = await deps.existingRule(d.tabId, d.url, type, nav ? undefined : seen.initiator);
    // Only a request that left WITH the rule's token says the token is refused: one sent before the rule took
    // effect (a burst of parallel requests while we were paying) and answered late must not evict the fresh
    // token — that would arm the loop guard and leave the page without its paid header. Unknown (a restarted
    // worker never saw the request leave): the rule matched it, so it is taken as carried.
    const sent = deps.sentWith(d.requestId);
    const carriedToken = prior !== null && (sent === undefined || sent === prior.authorization);
    if (prior && carriedToken) await deps.tokenRejected(d.url, prior.authorization, d.tabId);
    // A 401 to a request that carried no token of ours is not our business.
    if (rechallenge && !carriedToken) return nav ? deps.resetTab(d.tabId) : undefined;
    const serviceOrigin = new URL(d.url).origin;
    // A subresource's page is its initiator; a navigation's payer is the service only when the user started it.
    const initiator = nav ? navigationPayer(serviceOrigin, seen.initiator) : (seen.initiator ?? serviceOrigin);
    if (!nav && !pageCanReadResponse(seen)) {
      throw new AutopilotError(
        'unreadable_response',
        `not paid: ${initiator} could not read this response from ${serviceOrigin} (no CORS for it)`,
      );
    }
    if (!nav && initiator === 'null') {
      throw new AutopilotError(
        'denied',
        'not paid: a document with no origin (a sandboxed frame or data: page) cannot carry a token',
      );
    }
    // A frame's request: the user is on the top-level site, not the frame's. A frame of another site is never
    // paid silently, from the frame site's budget or the page's (autopilot.ts asks).
    const top = !nav && d.frameId !== 0 ? await deps.topOrigin(d) : initiator;
    const r = await deps.handle({
      serviceUrl: d.url,
      initiator,
      tabId: d.tabId,
      wwwAuthenticate: seen.wwwAuthenticate,
      ...(paymentRequired ? { paymentRequired } : {}),
      ...(nav ? {} : { reusableOnly: true }),
      source: nav ? 'navigation' : 'fetch',
      confirmedByBrowser: true,
      ...(top !== initiator ? { topSite: top } : {}),
    });
    if (r.oneTime) {
      // One navigation carries it, then the rule goes (index.ts onSendHeaders → dropUsedOneTimeRules).
      await deps.addRule({
        tabId: d.tabId,
        origin: r.origin,
        pathPrefix: r.pathPrefix,
        resourceTypes: ['main_frame'],
        initiator: null,
        authorization: r.authorization,
        paymentHash: r.paymentHash,
        expiresAt: r.validUntil,
        header: r.oneTime.header,
        oneTime: true,
      });
      await deps.navigate(d.tabId, d.url);
      return;
    }
    await deps.addRule({
      tabId: d.tabId,
      origin: r.origin,
      pathPrefix: r.pathPrefix,
      resourceTypes: [type],
      initiator: nav ? null : initiator,
      authorization: r.authorization,
      paymentHash: r.paymentHash,
      expiresAt: r.validUntil,
    });
    // A refused token's successor reloads the page only after a re-challenge (401): a 402 to a token may be a loop.
    if (nav && (!carriedToken || rechallenge)) await deps.navigate(d.tabId, d.url);
  } catch (e) {
    deps.report(e, seen);
  }
}
