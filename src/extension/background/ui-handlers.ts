// Handlers for the extension pages' UiApi (popup, options, onboarding, prompt). The pages are trusted
// (sender checked by the plumbing); still, everything saved is validated (settings.ts).
import { createNwcWallet } from '../../wallet/nwc.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import type { Handlers, SiteSummary, UiApi, WalletStatus } from '../messaging/protocol.ts';
import { DEFAULT_SITE_BUDGET, type Settings } from '../model/model.ts';
import { listPayments } from './ledger.ts';
import { periodStart, renewsAt } from './periods.ts';
import type { TabCounts } from './badge.ts';
import type { PromptStore } from './prompts.ts';
import { budgetTotals, countedMsat, dailySpentMsat, listReservations, siteOf } from './reservations.ts';
import { siteRuleFor } from './rules.ts';
import { checkNwcUri, loadSettings, saveSettings, updateSettings } from './settings.ts';
import type { KeyValueStorage } from './storage.ts';
import { listTokens, revokeToken } from './tokens.ts';
import { errorMessage } from '../../util/error-message.ts';

interface UiDeps {
  /** Local storage (settings, ledger, reservations, tokens). */
  storage: KeyValueStorage;
  clock: () => number;
  /** The same store the autopilot's prompts use (prompts.ts). */
  prompts: PromptStore;
  /** The configured wallet (as for the autopilot). */
  wallet: () => Promise<Wallet>;
  /** Opens a wallet for a URI being tested (default: createNwcWallet with a 15 s timeout). */
  connectNwc?: (uri: string) => Wallet;
  /** 402s met in a tab since it loaded, per scheme (the plumbing counts them for the badge). */
  challengesSeen?: (tabId: number) => Promise<TabCounts>;
  /** Called after settings change (e.g. to drop a cached wallet). */
  onSettingsChanged?: (s: Settings) => void | Promise<void>;
}

async function statusOf(
  kind: WalletStatus['kind'],
  open: () => Promise<Wallet>,
  close: boolean,
): Promise<WalletStatus> {
  const status: WalletStatus = { kind, connected: false, alias: null, balanceMsat: null, methods: [], error: null };
  let wallet: Wallet | null = null;
  try {
    wallet = await open();
    const info = wallet.getInfo ? await wallet.getInfo() : null;
    status.alias = info?.alias ?? null;
    status.methods = info?.methods ?? [];
    if (wallet.getBalance) status.balanceMsat = (await wallet.getBalance()).balanceMsat;
    status.connected = true;
  } catch (e) {
    status.error = errorMessage(e);
  } finally {
    if (close) wallet?.close?.();
  }
  return status;
}

/**
 * Every UiApi method. `Ctx` is whatever the plumbing passes; these handlers do not use it.
 * @example const ui = createUiHandlers({ storage, clock: Date.now, prompts, wallet }); await ui.getOverview({}, ctx);
 */
export function createUiHandlers<Ctx = unknown>(deps: UiDeps): Handlers<UiApi, Ctx> {
  const connect = deps.connectNwc ?? ((uri: string) => createNwcWallet(uri, { timeoutMs: 15_000 }));

  async function tabChallenges(tabId?: number): Promise<Pick<SiteSummary, 'challengesSeen' | 'challengesBySchemes'>> {
    const c = tabId !== undefined && deps.challengesSeen ? await deps.challengesSeen(tabId) : null;
    return { challengesSeen: c?.total ?? 0, challengesBySchemes: c?.bySchemes ?? {} };
  }

  // `origin` is the site the user is on (the popup's tab): what it may spend and spent, on whatever services it
  // called (budgets belong to the initiator, docs/design.md#rules-semantics).
  async function siteSummary(origin: string, tabId?: number): Promise<SiteSummary> {
    const settings = await loadSettings(deps.storage);
    const now = deps.clock();
    const rule = siteRuleFor(settings.rules.sites, origin);
    const entries = await listReservations(deps.storage);
    // Without a rule there is no budget period: show what this site caused to be spent today.
    const spentMsat = rule
      ? budgetTotals(entries, settings.rules, origin, now).siteSpentMsat
      : entries
          .filter((e) => siteOf(e) === origin && e.at >= periodStart(now, 'daily'))
          .reduce((n, e) => n + countedMsat(e), 0);
    // Tokens this site can use: those of its own service and those it paid for elsewhere.
    const tokens = (await listTokens(deps)).filter((t) => t.origin === origin || t.grantedTo.includes(origin)).length;
    return {
      origin,
      rule,
      spentMsat,
      renewsAt: rule ? renewsAt(now, rule.period) : null,
      tokens,
      ...(await tabChallenges(tabId)),
    };
  }

  return {
    getSettings: () => loadSettings(deps.storage),
    async saveSettings(s) {
      const saved = await saveSettings(deps.storage, s);
      await deps.onSettingsChanged?.(saved);
      return saved;
    },
    async testWallet({ uri }) {
      checkNwcUri(uri);
      return statusOf('nwc', async () => connect(uri), true);
    },
    async getWalletStatus() {
      const settings = await loadSettings(deps.storage);
      const kind = settings.wallet.kind;
      if (kind === 'none') {
        return { kind, connected: false, alias: null, balanceMsat: null, methods: [], error: 'no wallet is connected' };
      }
      return statusOf(kind, deps.wallet, false);
    },
    async getOverview() {
      const settings = await loadSettings(deps.storage);
      const spentTodayMsat = dailySpentMsat(await listReservations(deps.storage), deps.clock());
      return { spentTodayMsat, dailyCapMsat: settings.rules.dailyCapMsat };
    },
    getSiteSummary: ({ origin, tabId }) => siteSummary(origin, tabId),
    async setSiteAutoPay({ origin, autoPay }) {
      const saved = await updateSettings(deps.storage, (s) => {
        const exact = s.rules.sites.find((r) => r.pattern === origin);
        // A site covered only by a wildcard gets its own rule, starting from the wildcard's budget.
        const base = exact ??
          siteRuleFor(s.rules.sites, origin) ?? { pattern: origin, ...DEFAULT_SITE_BUDGET, autoPay };
        const rule = { ...base, pattern: origin, autoPay };
        return { ...s, rules: { ...s.rules, sites: [...s.rules.sites.filter((r) => r.pattern !== origin), rule] } };
      });
      await deps.onSettingsChanged?.(saved);
      return siteSummary(origin);
    },
    listPayments: (f) => listPayments(deps.storage, { origin: f.origin, from: f.from, to: f.to, limit: f.limit }),
    listTokens: () => listTokens(deps),
    revokeToken: async ({ paymentHash }) => ({ revoked: await revokeToken(deps, paymentHash) }),
    getPrompt: ({ id }) => deps.prompts.get(id),
    answerPrompt: async ({ id, answer }) => ({ accepted: await deps.prompts.answer(id, answer) }),
  };
}
