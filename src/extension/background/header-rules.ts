// declarativeNetRequest session rules that add `Authorization: L402 …` (docs/design.md#attach): for navigations (the
// reload after paying) and for cross-origin requests whose challenge the page cannot see. Each rule is as
// narrow as DNR allows — exact origin + path prefix (regex), resource types, one tab, and for a cross-origin
// request the paying page's host (`initiatorDomains`) — and is removed when its token expires, is rejected or
// revoked, its tab closes, or the tab moves on to another site (the token was granted to that page only). Rule metadata lives in storage.session so a
// restarted worker still knows what it added. A rule is recorded BEFORE it is added to DNR and the record is
// dropped if DNR refuses it, and on worker start any DNR rule without a record is removed
// (reconcileHeaderRules): no header rule is ever left that nothing would remove (docs/security.md).
import type { KeyValueStorage } from './storage.ts';
import { withLock } from './storage.ts';

const PREFIX = 'dnr-rule:';
const LOCK = 'l402-autopilot:dnr';

export type RuleResourceType = 'main_frame' | 'sub_frame' | 'xmlhttprequest';

export interface HeaderRule {
  id: number;
  tabId: number;
  origin: string;
  pathPrefix: string;
  resourceTypes: RuleResourceType[];
  /**
   * The page origin a cross-origin request rule serves (the token is granted to it, docs/design.md#secure); null for a
   * navigation rule, whose page is the service itself.
   */
  initiator: string | null;
  authorization: string;
  paymentHash: string;
  /** Unix ms; null = until the tab closes or the token is evicted. */
  expiresAt: number | null;
  /** Subdomains of the initiator's host seen framed in this tab: kept out of the rule (see noteFrameHost). */
  excludedHosts?: string[];
  /** The header set (default `Authorization`; x402 uses `PAYMENT-SIGNATURE`). */
  header?: string;
  /** A one-time charge credential: removed as soon as one request has left with it (dropUsedOneTimeRules). */
  oneTime?: boolean;
}

/** The part of chrome.declarativeNetRequest used here (injected so this module is testable). */
export interface DnrApi {
  updateSessionRules(o: { addRules?: chrome.declarativeNetRequest.Rule[]; removeRuleIds?: number[] }): Promise<void>;
  /** Only for reconcileHeaderRules. */
  getSessionRules?(): Promise<{ id: number }[]>;
}

export interface HeaderRuleDeps {
  dnr: DnrApi;
  /** storage.session */
  storage: KeyValueStorage;
  clock: () => number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Regex for "this origin, path segment-wise under this prefix" (same rule as the token store). */
export function scopeRegex(origin: string, pathPrefix: string): string {
  const base = `^${escapeRe(origin)}${escapeRe(pathPrefix)}`;
  return pathPrefix.endsWith('/') ? base : `${base}(?:[/?#]|$)`;
}

/** A header value DNR may set: visible ASCII only (no CR/LF header injection, docs/design.md#quality-bars). */
export function isSafeHeaderValue(v: string): boolean {
  return /^[\x21-\x7e][\x20-\x7e]*$/.test(v) && v.length <= 8192;
}

/** The DNR session rule for a recorded header rule. */
function dnrRule(r: HeaderRule): chrome.declarativeNetRequest.Rule {
  return {
    id: r.id,
    // A one-time credential wins over a token rule of the same scope for the one request it was bought for.
    priority: r.oneTime ? 2 : 1,
    action: {
      type: 'modifyHeaders' as chrome.declarativeNetRequest.RuleActionType,
      requestHeaders: [
        {
          header: r.header ?? 'Authorization',
          operation: 'set' as chrome.declarativeNetRequest.HeaderOperation,
          value: r.authorization,
        },
      ],
    },
    condition: {
      regexFilter: scopeRegex(r.origin, r.pathPrefix),
      resourceTypes: r.resourceTypes as chrome.declarativeNetRequest.ResourceType[],
      tabIds: [r.tabId],
      // The token's path scope is case-sensitive, like the token store's (a `/API` scope is not `/api`).
      isUrlFilterCaseSensitive: true,
      // DNR matches initiators by host only (any scheme/port; dropRulesOfOtherPages covers the rest) AND its
      // subdomains: those seen framed in the tab are excluded (excluded wins over included in DNR).
      ...(r.initiator === null ? {} : { initiatorDomains: [new URL(r.initiator).hostname] }),
      ...(r.excludedHosts?.length ? { excludedInitiatorDomains: r.excludedHosts } : {}),
    },
  };
}

const FRAMES = 'frame-hosts:';
/** Frame hosts remembered per tab (the newest kept). */
const MAX_FRAME_HOSTS = 64;

async function frameHosts(deps: HeaderRuleDeps, tabId: number): Promise<string[]> {
  return (await deps.storage.get<string[]>(FRAMES + tabId)) ?? [];
}

/** Strict subdomains of `host` among `hosts` (DNR's initiatorDomains would match them too). */
function subdomainsOf(host: string, hosts: string[]): string[] {
  return hosts.filter((h) => h !== host && h.endsWith(`.${host}`));
}

/**
 * A frame document from `host` starts loading in `tabId` (webRequest sub_frame, before any of its scripts can
 * run): remember the host, and keep it out of every rule of the tab whose page host it is a subdomain of. A
 * token granted to `example.com` is thereby not attached to requests from an `uploads.example.com` frame.
 */
export function noteFrameHost(deps: HeaderRuleDeps, tabId: number, host: string): Promise<void> {
  return withLock(LOCK, async () => {
    const known = await frameHosts(deps, tabId);
    if (!known.includes(host)) await deps.storage.set(FRAMES + tabId, [...known, host].slice(-MAX_FRAME_HOSTS));
    for (const r of await listHeaderRules(deps)) {
      if (r.tabId !== tabId || r.initiator === null || r.excludedHosts?.includes(host)) continue;
      if (subdomainsOf(new URL(r.initiator).hostname, [host]).length === 0) continue;
      const next: HeaderRule = { ...r, excludedHosts: [...(r.excludedHosts ?? []), host] };
      await deps.dnr.updateSessionRules({ removeRuleIds: [r.id], addRules: [dnrRule(next)] });
      await deps.storage.set(PREFIX + r.id, next);
    }
  });
}

/** Forget a tab's frame hosts (tab closed). */
export async function forgetFrameHosts(deps: HeaderRuleDeps, tabId: number): Promise<void> {
  await deps.storage.remove(FRAMES + tabId);
}

export async function listHeaderRules(deps: HeaderRuleDeps): Promise<HeaderRule[]> {
  return [...(await deps.storage.getAll<HeaderRule>(PREFIX)).values()];
}

/**
 * Adds (or replaces, for the same tab + scope + types) the rule attaching `authorization`.
 * @example await addHeaderRule(deps, { tabId, origin, pathPrefix: '/', resourceTypes: ['main_frame'], authorization, paymentHash, expiresAt })
 */
export function addHeaderRule(deps: HeaderRuleDeps, r: Omit<HeaderRule, 'id'>): Promise<HeaderRule> {
  if (!isSafeHeaderValue(r.authorization)) return Promise.reject(new Error('unsafe Authorization value'));
  return withLock(LOCK, async () => {
    const all = await listHeaderRules(deps);
    const same = all.find(
      (x) =>
        x.tabId === r.tabId &&
        x.origin === r.origin &&
        x.pathPrefix === r.pathPrefix &&
        x.resourceTypes.join() === r.resourceTypes.join() &&
        x.initiator === r.initiator,
    );
    const id = same?.id ?? all.reduce((m, x) => Math.max(m, x.id), 0) + 1;
    const excluded =
      r.initiator === null ? [] : subdomainsOf(new URL(r.initiator).hostname, await frameHosts(deps, r.tabId));
    const rule: HeaderRule = { ...r, id, ...(excluded.length > 0 ? { excludedHosts: excluded } : {}) };
    // Recorded first: if storage refuses (quota), no DNR rule exists that nothing knows of.
    await deps.storage.set(PREFIX + id, rule);
    const added = deps.dnr.updateSessionRules({ removeRuleIds: [id], addRules: [dnrRule(rule)] });
    await added.catch(async (e: unknown) => {
      if (same) await deps.dnr.updateSessionRules({ removeRuleIds: [id] }).catch(() => {});
      await deps.storage.remove(PREFIX + id);
      throw e;
    });
    return rule;
  });
}

/** Removes every rule matching `pick`; returns how many. */
export function removeHeaderRules(deps: HeaderRuleDeps, pick: (r: HeaderRule) => boolean): Promise<number> {
  return withLock(LOCK, async () => {
    const gone = (await listHeaderRules(deps)).filter(pick);
    if (gone.length === 0) return 0;
    await deps.dnr.updateSessionRules({ removeRuleIds: gone.map((r) => r.id) });
    for (const r of gone) await deps.storage.remove(PREFIX + r.id);
    return gone.length;
  });
}

/**
 * Worker start: removes DNR session rules that have no record (left by a worker that stopped between the two
 * writes, or by an older version) and records whose DNR rule is gone. Returns how many DNR rules were removed.
 */
export function reconcileHeaderRules(deps: HeaderRuleDeps): Promise<number> {
  return withLock(LOCK, async () => {
    if (!deps.dnr.getSessionRules) return 0;
    const inDnr = new Set((await deps.dnr.getSessionRules()).map((r) => r.id));
    const recorded = await listHeaderRules(deps);
    const known = new Set(recorded.map((r) => r.id));
    for (const r of recorded) if (!inDnr.has(r.id)) await deps.storage.remove(PREFIX + r.id);
    const orphans = [...inDnr].filter((id) => !known.has(id));
    if (orphans.length > 0) await deps.dnr.updateSessionRules({ removeRuleIds: orphans });
    return orphans.length;
  });
}

/**
 * A request left `tabId` with these headers (webRequest.onSendHeaders, after DNR set its own): a one-time rule
 * whose credential it carried has been used and goes now, so no second request ever carries that charge.
 */
export async function dropUsedOneTimeRules(
  deps: HeaderRuleDeps,
  tabId: number,
  sent: readonly { name: string; value?: string }[],
): Promise<number> {
  const carried = (r: HeaderRule) =>
    sent.some(
      (h) => h.name.toLowerCase() === (r.header ?? 'Authorization').toLowerCase() && h.value === r.authorization,
    );
  if (!(await listHeaderRules(deps)).some((r) => r.oneTime && r.tabId === tabId)) return 0;
  return removeHeaderRules(deps, (r) => r.oneTime === true && r.tabId === tabId && carried(r));
}

/** Drops rules whose token has expired (called on worker start and on every 402 seen). */
export function sweepExpiredRules(deps: HeaderRuleDeps): Promise<number> {
  const now = deps.clock();
  return removeHeaderRules(deps, (r) => r.expiresAt !== null && r.expiresAt <= now);
}

/**
 * A new top-level document in `tabId` at `pageOrigin`: drops the rules that served another page there (a
 * token granted to one site must not be attached to the next site's requests in the same tab).
 */
export function dropRulesOfOtherPages(deps: HeaderRuleDeps, tabId: number, pageOrigin: string): Promise<number> {
  return removeHeaderRules(deps, (r) => r.tabId === tabId && r.initiator !== null && r.initiator !== pageOrigin);
}

/** The rule that attached a header to this request, if any (`initiator`: the requesting page's origin). */
export async function headerRuleFor(
  deps: HeaderRuleDeps,
  tabId: number,
  url: string,
  type: RuleResourceType,
  initiator?: string,
): Promise<HeaderRule | null> {
  const all = await listHeaderRules(deps);
  return (
    all.find(
      (r) =>
        r.tabId === tabId &&
        // A one-time charge's rule attached no token (its refusal says nothing about one).
        r.oneTime !== true &&
        r.resourceTypes.includes(type) &&
        (r.initiator === null || r.initiator === initiator) &&
        new RegExp(scopeRegex(r.origin, r.pathPrefix)).test(url),
    ) ?? null
  );
}
