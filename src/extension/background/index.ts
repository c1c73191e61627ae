// Background entry (docs/design.md#house-style): builds the injected dependencies and registers every listener
// synchronously at top level. Nothing durable lives in memory: settings, ledger, reservations, tokens live
// in the extension origin's IndexedDB (idb-storage.ts); prompts, header rules and badge counts in
// storage.session. What is in memory (a wallet connection, the prompt waiters) is rebuilt on the next event
// after a restart.
import browser from 'webextension-polyfill';
import { createNwcWallet } from '../../wallet/nwc.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import { createDispatcher } from '../messaging/channel.ts';
import { pageChecks, uiChecks } from '../messaging/schema.ts';
import { createAutopilot } from './autopilot.ts';
import { countChallenge, countsOf, resetBadge } from './badge.ts';
import type { ChallengeScheme } from '../model/model.ts';
import { on402 } from './detector.ts';
import { firefoxTabMemory } from './firefox-tabs.ts';
import { AutopilotError } from './errors.ts';
import {
  addHeaderRule,
  dropRulesOfOtherPages,
  dropUsedOneTimeRules,
  forgetFrameHosts,
  type HeaderRuleDeps,
  noteFrameHost,
  reconcileHeaderRules,
  removeHeaderRules,
  headerRuleFor,
  sweepExpiredRules,
} from './header-rules.ts';
import { idbStorage } from './idb-storage.ts';
import { createPageHandlers, type PageCtx } from './page-handlers.ts';
import type { WalletContext } from './payment-flow.ts';
import { promptWithWindow } from './prompt-window.ts';
import { createPromptStore } from './prompts.ts';
import { loadSettings } from './settings.ts';
import { browserStorage } from './storage.ts';
import { pageWallet, senderContext, uiSenderOk } from './senders.ts';
import { forgetTab, rememberChallenge, wasSeen } from './seen-challenges.ts';
import { createUiHandlers } from './ui-handlers.ts';

// Not storage.local: content scripts can read that, and Firefox cannot restrict it (docs/security.md).
const local = idbStorage({ indexedDB, migrateFrom: browser.storage.local });
const session = browserStorage(browser.storage.session);
const clock = () => Date.now();
const PROMPT_TIMEOUT_MS = 120_000;

// One wallet connection per worker lifetime (a cache, not state: rebuilt from settings when missing).
let walletCache: { key: string; wallet: Wallet } | null = null;

/**
 * The configured wallet. Kind 'webln' pays through the provider of the tab whose request is being paid
 * (`ctx.tabId`: the tab that raised the 402 or called window.webln) — never "whichever tab spoke last", which two
 * tabs at once would get wrong. No tab (UI status, resume at start): there is no page to pay through.
 */
async function currentWallet(ctx: WalletContext = {}): Promise<Wallet> {
  const s = await loadSettings(local);
  if (s.wallet.kind === 'none') throw new AutopilotError('no_wallet', 'no wallet connected: open the options page');
  if (s.wallet.kind === 'webln') {
    const tabId = ctx.tabId ?? -1;
    return pageWallet(
      (id, msg) => browser.tabs.sendMessage(id, msg),
      () => tabId,
    );
  }
  if (walletCache?.key !== s.wallet.uri) {
    walletCache?.wallet.close?.();
    walletCache = { key: s.wallet.uri, wallet: createNwcWallet(s.wallet.uri, { timeoutMs: 45_000 }) };
  }
  return walletCache.wallet;
}

const prompts = createPromptStore({ storage: session, clock });
const prompt = promptWithWindow({
  prompts,
  storage: session,
  getURL: (p) => browser.runtime.getURL(p),
  createWindow: (o) => browser.windows.create(o),
  removeWindow: (id) => browser.windows.remove(id),
  timeoutMs: PROMPT_TIMEOUT_MS,
});
const headerRules: HeaderRuleDeps = {
  dnr: {
    updateSessionRules: (o) => chrome.declarativeNetRequest.updateSessionRules(o),
    getSessionRules: () => chrome.declarativeNetRequest.getSessionRules(),
  },
  storage: session,
  clock,
};
const autopilot = createAutopilot({
  storage: local,
  clock,
  wallet: currentWallet,
  prompt,
  promptTimeoutMs: PROMPT_TIMEOUT_MS,
  dropHeaderRules: (c) =>
    removeHeaderRules(headerRules, (h) =>
      c.authorization !== undefined ? h.authorization === c.authorization : h.paymentHash === c.paymentHash,
    ),
});
const badge = {
  storage: session,
  setText: (tabId: number, text: string) => browser.action.setBadgeText({ tabId, text }),
  setTitle: (tabId: number, title: string) => browser.action.setTitle({ tabId, title }),
};

const uiHandlers = createUiHandlers<null>({
  storage: local,
  clock,
  prompts,
  wallet: currentWallet,
  challengesSeen: (tabId) => countsOf(badge, tabId),
  onSettingsChanged: () => {
    walletCache?.wallet.close?.();
    walletCache = null;
  },
});
const ui = createDispatcher<'ui', null>('ui', uiChecks, {
  ...uiHandlers,
  // Forgetting a token is the autopilot's one operation: the token and the header rules that carry it.
  revokeToken: ({ paymentHash }) => autopilot.revokeToken(paymentHash),
});
const seen = { storage: session, clock };

// The detector's handling of each 402 (tab + URL), kept a little after it ends: a page whose 402 the background
// pays (challenge hidden by CORS) asks about it, and may ask before or after webRequest told us about it.
const detections = new Map<string, Promise<void>>();
const DETECTION_KEPT_MS = 10_000;
const detectionKey = (tabId: number, url: string) => `${tabId} ${url}`;
function trackDetection(tabId: number, url: string, run: Promise<void>): void {
  const key = detectionKey(tabId, url);
  const p = run.catch(() => undefined);
  detections.set(key, p);
  void p.then(() =>
    setTimeout(() => {
      if (detections.get(key) === p) detections.delete(key);
    }, DETECTION_KEPT_MS),
  );
}
async function awaitDetection(tabId: number, url: string): Promise<void> {
  const key = detectionKey(tabId, url);
  // The page's question can overtake the webRequest event: give the event a moment to arrive.
  for (let i = 0; i < 20 && !detections.has(key); i++) await new Promise((r) => setTimeout(r, 50));
  await detections.get(key);
}
const page = createDispatcher(
  'page',
  pageChecks,
  createPageHandlers({
    autopilot,
    storage: local,
    settings: () => loadSettings(local),
    headerRules,
    wasSeen: (tabId, url, www) => wasSeen(seen, tabId, url, www),
    detected: awaitDetection,
  }),
);

browser.runtime.onMessage.addListener((msg: unknown, sender: browser.Runtime.MessageSender) => {
  if (page.accepts(msg)) {
    const ctx: PageCtx | null = senderContext(sender, browser.runtime.id);
    if (!ctx) return undefined; // not our content script in a web page: no answer at all
    return page.dispatch(msg, ctx);
  }
  if (ui.accepts(msg)) {
    if (!uiSenderOk(sender, browser.runtime.id, browser.runtime.getURL(''))) return undefined;
    return ui.dispatch(msg, null);
  }
  return undefined;
});

// The Authorization each request left with (onSendHeaders: after DNR set its headers), keyed by requestId.
// Only a cache of in-flight requests: a restarted worker does not know, and then a 402 under a rule counts
// as a rejection.
const sentWith = new Map<string, string | null>();
const SENT_WITH_MAX = 2_000;
/** An unused one-time charge rule is dropped after this (its navigation never left). */
const ONE_TIME_RULE_MS = 60_000;

// Firefox names no initiator for a navigation that a document with no origin started (detector.ts
// unnamedNavigation): what each tab showed is kept here, in memory (an unloaded event page starts knowing nothing).
const firefox = typeof (browser.runtime as { getBrowserInfo?: unknown }).getBrowserInfo === 'function';
// Firefox only: what each tab showed, for navigations it names no initiator for (firefox-tabs.ts).
const firefoxTabs = firefox
  ? firefoxTabMemory(session, async (tabId) => (await browser.tabs.get(tabId)).openerTabId !== undefined)
  : null;
if (firefoxTabs) {
  browser.tabs.onCreated.addListener((t) => {
    if (t.id !== undefined && t.openerTabId !== undefined) void firefoxTabs.opened(t.id).catch(() => {});
  });
}

const detector = {
  sentWith: (requestId: string) => sentWith.get(requestId),
  countChallenge: (tabId: number, schemes: ChallengeScheme[]) => countChallenge(badge, tabId, schemes),
  remember: (tabId: number, url: string, www: string[]) => rememberChallenge(seen, tabId, url, www),
  resetTab: (tabId: number) => resetBadge(badge, tabId),
  pageChanged: async (tabId: number, origin: string) => {
    await dropRulesOfOtherPages(headerRules, tabId, origin);
  },
  ...(firefoxTabs ? { firefoxTabs } : {}),
  async handle(req: Parameters<typeof autopilot.handleDemand>[0]) {
    await sweepExpiredRules(headerRules);
    const r = await autopilot.handleDemand(req);
    if (r.oneTime) {
      // A one-time charge: a rule for the one navigation, gone once used (or, unused, after a minute).
      const u = new URL(req.serviceUrl);
      return {
        authorization: r.authorization,
        origin: u.origin,
        pathPrefix: u.pathname,
        paymentHash: r.paymentHash,
        validUntil: clock() + ONE_TIME_RULE_MS,
        oneTime: { header: r.header },
      };
    }
    const t = r.token;
    return {
      authorization: r.authorization,
      origin: t.origin,
      pathPrefix: t.pathPrefix,
      paymentHash: t.paymentHash,
      validUntil: t.validUntil,
    };
  },
  existingRule: (
    tabId: number,
    url: string,
    type: 'main_frame' | 'sub_frame' | 'xmlhttprequest',
    initiator: string | undefined,
  ) => headerRuleFor(headerRules, tabId, url, type, initiator),
  async tokenRejected(url: string, authorization: string) {
    console.warn(`L402 Autopilot: ${url} refused the token it was sent; it is forgotten`);
    await autopilot.tokenRejected(url, authorization);
  },
  addRule: async (r: Parameters<typeof addHeaderRule>[1]) => {
    await addHeaderRule(headerRules, r);
  },
  navigate: async (tabId: number, url: string) => {
    await browser.tabs.update(tabId, { url });
  },
  // Firefox lists the frame's ancestors (the last is the top); Chromium: the tab's URL (host permissions show it).
  async topOrigin(d: chrome.webRequest.OnHeadersReceivedDetails & { frameAncestors?: { url: string }[] }) {
    try {
      const url = d.frameAncestors?.length
        ? d.frameAncestors[d.frameAncestors.length - 1]?.url
        : (await browser.tabs.get(d.tabId)).url;
      return url ? new URL(url).origin : 'null';
    } catch {
      return 'null';
    }
  },
  report(e: unknown, where: { url: string }) {
    console.warn(`L402 Autopilot: not paid for ${where.url}:`, e instanceof Error ? e.message : e);
  },
};

// `extraHeaders` is Chrome-only and was not needed (docs/design.md#browser-testing); feature-detect it anyway so a
// Chrome that hides WWW-Authenticate without it still shows it to us.
const extra = (chrome.webRequest as { OnHeadersReceivedOptions?: Record<string, string> } | undefined)
  ?.OnHeadersReceivedOptions?.EXTRA_HEADERS;
// A tab starts loading another top-level document: drop the rules other pages left in it NOW, while the new
// document is still on the network, so its first scripts cannot race the removal (seen in Firefox, whose event
// page handles the response later than Chromium). A redirect back to the same site only costs that page one
// 402, after which its token is attached again. The response (on402) checks once more.
// A frame document starting to load: its host is kept out of the tab's header rules when it is a subdomain of
// the paying page's host (DNR's initiatorDomains would match it; header-rules.ts noteFrameHost).
chrome.webRequest.onBeforeRequest.addListener(
  (d) => {
    if (d.tabId < 0) return undefined;
    if (d.type === 'main_frame') void detector.pageChanged(d.tabId, new URL(d.url).origin);
    else void noteFrameHost(headerRules, d.tabId, new URL(d.url).hostname).catch(() => {});
    return undefined;
  },
  { urls: ['http://*/*', 'https://*/*'], types: ['main_frame', 'sub_frame'] },
);
chrome.webRequest.onSendHeaders.addListener(
  (d) => {
    const auth = d.requestHeaders?.find((h) => h.name.toLowerCase() === 'authorization')?.value ?? null;
    sentWith.set(d.requestId, auth);
    if (d.type === 'main_frame' && d.tabId >= 0)
      void dropUsedOneTimeRules(headerRules, d.tabId, d.requestHeaders ?? []).catch(() => {});
    if (sentWith.size > SENT_WITH_MAX) sentWith.delete(sentWith.keys().next().value as string);
  },
  { urls: ['http://*/*', 'https://*/*'], types: ['main_frame', 'xmlhttprequest'] },
  // Authorization shows here without `extraHeaders`, DNR's included (checked in Chromium and Firefox ESR).
  ['requestHeaders'],
);
chrome.webRequest.onHeadersReceived.addListener(
  (d) => {
    const run = on402(detector, d).finally(() => sentWith.delete(d.requestId));
    // 401 too: a re-challenge to a token may be paid here when the page cannot read it.
    if ((d.statusCode === 402 || d.statusCode === 401) && d.tabId >= 0) trackDetection(d.tabId, d.url, run);
    return undefined;
  },
  { urls: ['http://*/*', 'https://*/*'] },
  (extra ? ['responseHeaders', extra] : ['responseHeaders']) as chrome.webRequest.OnHeadersReceivedOptions[],
);

browser.tabs.onRemoved.addListener((tabId) => {
  void firefoxTabs?.forget(tabId).catch(() => {});
  void removeHeaderRules(headerRules, (r) => r.tabId === tabId);
  void resetBadge(badge, tabId);
  void forgetTab(seen, tabId);
  void forgetFrameHosts(headerRules, tabId);
});

browser.runtime.onInstalled.addListener((d) => {
  if (d.reason === 'install')
    void browser.tabs.create({ url: browser.runtime.getURL('src/extension/ui/onboarding/index.html') });
});

// Worker start: finish what a stopped worker left (a pending payment's preimage is looked up, never re-paid).
// A payment still in flight at the wallet looks "unknown" at first: look again a few times while this worker
// lives (and again at the next start), so its preimage and token arrive without the user doing anything. The
// autopilot keeps the pass in progress: a 402 meeting an open payment of its scope waits for it, never pays twice.
const RESUME_RETRY_MS = [1_000, 3_000, 7_000, 15_000];
void autopilot
  .resumeUntilKnown(RESUME_RETRY_MS)
  .catch((e: unknown) => console.warn('L402 Autopilot: resume failed', e));
void reconcileHeaderRules(headerRules)
  .then(() => sweepExpiredRules(headerRules))
  .catch(() => {});

// Tests wait for this before navigating (docs/design.md#browser-testing: the `serviceworker` event fires early).
(globalThis as unknown as Record<string, unknown>).__l402AutopilotReady = true;
