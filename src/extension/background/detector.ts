// Sees every 402 the browser receives (docs/design.md#detect) through webRequest.onHeadersReceived (observe only,
// ['responseHeaders']). It acts only where the MAIN-world wrapper cannot: top-level navigations (pay, add
// a DNR rule, tabs.update — not reload, docs/design.md#browser-testing) and cross-origin requests whose challenge the page
// cannot read (pay, add a DNR rule for later requests). Same-origin and CORS-exposed 402s are left to the
// wrapper so one 402 is never handled twice. It never re-requests a URL to read a challenge.
import { AutopilotError } from './errors.ts';
import type { HeaderRule, RuleResourceType } from './header-rules.ts';

export interface Seen402 {
  url: string;
  tabId: number;
  type: string;
  initiator?: string;
  wwwAuthenticate: string[];
  headers: { name: string; value?: string }[];
}

export interface DetectorDeps {
  countChallenge(tabId: number): Promise<void>;
  /** Every L402 402 the browser delivered, so a page's claim about one can be checked (seen-challenges.ts). */
  remember(tabId: number, url: string, wwwAuthenticate: string[]): Promise<void>;
  resetTab(tabId: number): Promise<void>;
  /** A new top-level document at `origin` in the tab: rules left for other pages go (header-rules.ts). */
  pageChanged(tabId: number, origin: string): Promise<void>;
  /** Pays or reuses a token; resolves with the header and its scope. */
  handle(req: {
    serviceUrl: string;
    initiator: string;
    tabId: number;
    wwwAuthenticate: string[];
    source: 'fetch' | 'navigation';
    /** Always true here: the browser delivered this 402 (autopilot.ts uses it to allow auto-pay). */
    confirmedByBrowser: true;
    /** The tab's top-level site, when a frame of another site made the request (never auto-paid then). */
    topSite?: string;
  }): Promise<{ authorization: string; origin: string; pathPrefix: string; paymentHash: string; validUntil: number | null }>;
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
  report(e: unknown, where: Seen402): void;
}

const headerValues = (headers: { name: string; value?: string }[], name: string) =>
  headers.filter((h) => h.name.toLowerCase() === name && h.value !== undefined).map((h) => h.value as string);

/** Could page script read this response's status and challenge (so the MAIN-world wrapper handles it)? */
export function pageCanSeeChallenge(s: Seen402): boolean {
  const target = new URL(s.url).origin;
  if (!s.initiator || s.initiator === target) return true;
  const acao = headerValues(s.headers, 'access-control-allow-origin')[0]?.trim();
  const exposed = headerValues(s.headers, 'access-control-expose-headers')
    .join(',')
    .split(',')
    .map((x) => x.trim().toLowerCase());
  return (acao === '*' || acao === s.initiator) && (exposed.includes('www-authenticate') || exposed.includes('*'));
}

/**
 * Could page script read this cross-origin response at all (CORS lets the initiator see it)? When not, the
 * fetch fails in the page whatever we attach, so a payment would buy nothing.
 */
export function pageCanReadResponse(s: Seen402): boolean {
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
export function navigationPayer(serviceOrigin: string, initiator: string | undefined): string {
  return initiator === undefined || initiator === serviceOrigin ? serviceOrigin : initiator;
}

/** Cheap scheme sniff; the autopilot parses with the protocol core. */
const hasL402 = (values: string[]) => values.some((v) => /(?:^|[\s,])(?:L402|LSAT)\s/i.test(v));

/**
 * The origin of the page that made the request. Chrome gives `initiator`; Firefox gives `documentUrl` (the
 * requesting document) and `originUrl` instead (webextension-polyfill does not unify this).
 */
export function initiatorOf(d: { initiator?: string; documentUrl?: string; originUrl?: string }): string | undefined {
  if (d.initiator) return d.initiator;
  const url = d.documentUrl ?? d.originUrl;
  if (!url) return undefined;
  try {
    // An opaque origin (sandboxed frame, data: document) is "null", as Chrome reports it: never "no initiator".
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}

/** The onHeadersReceived listener body. Returns a promise only so tests can await it. */
export async function on402(deps: DetectorDeps, d: chrome.webRequest.OnHeadersReceivedDetails): Promise<void> {
  if (d.tabId < 0) return;
  // Before the new document's scripts run; not on a redirect (the final response decides whose page it is).
  if (d.type === 'main_frame' && (d.statusCode < 300 || d.statusCode > 399)) await deps.pageChanged(d.tabId, new URL(d.url).origin);
  if (d.type === 'main_frame' && d.statusCode !== 402) return deps.resetTab(d.tabId);
  if (d.statusCode !== 402) return;
  const headers = d.responseHeaders ?? [];
  const seen: Seen402 = {
    url: d.url,
    tabId: d.tabId,
    type: d.type,
    initiator: initiatorOf(d),
    wwwAuthenticate: headerValues(headers, 'www-authenticate'),
    headers,
  };
  if (!hasL402(seen.wwwAuthenticate)) {
    await deps.countChallenge(d.tabId);
    return;
  }
  // Remember first: the page may ask about this 402 as soon as it has it.
  await deps.remember(d.tabId, d.url, seen.wwwAuthenticate);
  await deps.countChallenge(d.tabId);
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
    const serviceOrigin = new URL(d.url).origin;
    // A subresource's page is its initiator; a navigation's payer is the service only when the user started it.
    const initiator = nav ? navigationPayer(serviceOrigin, seen.initiator) : (seen.initiator ?? serviceOrigin);
    if (!nav && !pageCanReadResponse(seen)) {
      throw new AutopilotError('unreadable_response', `not paid: ${initiator} could not read this response from ${serviceOrigin} (no CORS for it)`);
    }
    if (!nav && initiator === 'null') {
      throw new AutopilotError('denied', 'not paid: a document with no origin (a sandboxed frame or data: page) cannot carry a token');
    }
    // A frame's request: the user is on the top-level site, not the frame's. A frame of another site is never
    // paid silently, from the frame site's budget or the page's (autopilot.ts asks).
    const top = !nav && d.frameId !== 0 ? await deps.topOrigin(d) : initiator;
    const r = await deps.handle({
      serviceUrl: d.url,
      initiator,
      tabId: d.tabId,
      wwwAuthenticate: seen.wwwAuthenticate,
      source: nav ? 'navigation' : 'fetch',
      confirmedByBrowser: true,
      ...(top !== initiator ? { topSite: top } : {}),
    });
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
    if (nav && !carriedToken) await deps.navigate(d.tabId, d.url);
  } catch (e) {
    deps.report(e, seen);
  }
}
