// Decide → (prompt) → reserve → pay, shared by L402 challenges and WebLN sendPayment (docs/design.md#decide):
// inside the rules pay silently; outside, ask the user; prompts for one site are asked one at a time, and
// a "deny" answers every question for that site that was already waiting (no stack of windows). The site is the
// page that caused the payment (the initiator): its budget applies, and "approve and set a budget" sets its rule.
import type { Network } from '../../l402/index.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import type { PaymentRecord, PromptAnswer, PromptRequest, Settings } from '../model/model.ts';
import { AutopilotError } from './errors.ts';
import { executePayment, type PaymentIntent, type PrepareResult, preparePayment } from './payer.ts';
import type { Breaker } from './reservations.ts';
import { loadSettings, upsertSiteRule } from './settings.ts';
import type { KeyValueStorage } from './storage.ts';
import { errorMessage } from '../../util/error-message.ts';

/** What the background logic needs from the outside world (all injected; docs/design.md#house-style). */
export interface FlowDeps {
  /** `browser.storage.local` (via browserStorage) in the extension. */
  storage: KeyValueStorage;
  clock: () => number;
  /**
   * The configured wallet. For kind 'webln' the plumbing supplies one that calls the provider of the page in
   * `ctx.tabId` — the tab that raised the challenge or called window.webln, never "the last tab that spoke".
   */
  wallet: (ctx?: WalletContext) => Promise<Wallet>;
  /** Shows the prompt window and resolves with the answer (timeout = deny); see prompts.ts `promptVia`. */
  prompt: (request: PromptRequest) => Promise<PromptAnswer>;
  /** Defaults to the settings in `storage`. */
  settings?: () => Promise<Settings>;
  newId?: () => string;
  /** How long a prompt stays open, ms (default 120 s). */
  promptTimeoutMs?: number;
  /** L402 circuit breaker per service (default: more than 3 payments within 5 min asks); null: off. */
  breaker?: Breaker | null;
}

/** A hostile or broken service paid on every poll is stopped here, even inside a generous budget. */
const DEFAULT_BREAKER: Breaker = { maxPayments: 3, windowMs: 5 * 60_000 };

/** Whose request a wallet is wanted for. */
export interface WalletContext {
  /** The browser tab that raised the 402 or called window.webln (from `sender.tab.id` / webRequest `tabId`). */
  tabId?: number;
}

export interface PayRequest {
  intent: Omit<PaymentIntent, 'rules' | 'walletKind' | 'force'>;
  promptKind: PromptRequest['kind'];
}

export interface PaymentFlow {
  readonly deps: FlowDeps;
  /** Current settings. */
  settings(): Promise<Settings>;
  /** The configured wallet for a request of `ctx.tabId`; throws AutopilotError `no_wallet` / `wallet_unavailable`. */
  wallet(settings: Settings, ctx?: WalletContext): Promise<Wallet>;
  /** Networks the wallet is on, when it says (cached per wallet object). */
  networks(wallet: Wallet): Promise<Network[] | undefined>;
  /** Runs the whole decision and payment; resolves with the succeeded record (`paid`: by this call) or throws AutopilotError. */
  pay(req: PayRequest, wallet: Wallet, settings: Settings): Promise<{ record: PaymentRecord; paid: boolean }>;
  /** Asks the user something, one prompt per site (the page asking) at a time. */
  ask(site: string, build: () => PromptRequest): Promise<PromptAnswer>;
}

const NETWORK_NAMES: Record<string, Network> = {
  bitcoin: 'mainnet',
  mainnet: 'mainnet',
  testnet: 'testnet',
  testnet3: 'testnet',
  testnet4: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
  simnet: 'simnet',
};

/**
 * Creates the flow. Keep one per background lifetime (it holds the per-site prompt queue in memory; nothing
 * that must survive a restart lives there).
 * @example const flow = createPaymentFlow({ storage, clock: Date.now, wallet, prompt });
 */
export function createPaymentFlow(deps: FlowDeps): PaymentFlow {
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const promptChains = new Map<string, Promise<unknown>>();
  const denyEpoch = new Map<string, number>();
  const noteDeny = (origin: string) => denyEpoch.set(origin, (denyEpoch.get(origin) ?? 0) + 1);
  // One prompt per site at a time; `deniedMeanwhile` tells a waiter the user said no to this site while it waited.
  const inSlot = <T>(origin: string, fn: (deniedMeanwhile: boolean) => Promise<T>): Promise<T> => {
    const epoch = denyEpoch.get(origin) ?? 0;
    const prev = promptChains.get(origin) ?? Promise.resolve();
    const mine = prev.then(() => fn((denyEpoch.get(origin) ?? 0) !== epoch));
    const tail = mine.catch(() => undefined);
    promptChains.set(origin, tail);
    void tail.then(() => {
      if (promptChains.get(origin) === tail) promptChains.delete(origin);
    });
    return mine;
  };
  const networkCache = new WeakMap<Wallet, Promise<Network[] | undefined>>();

  const flow: PaymentFlow = {
    deps,
    settings: () => (deps.settings ? deps.settings() : loadSettings(deps.storage)),

    async wallet(settings, ctx) {
      if (settings.wallet.kind === 'none')
        throw new AutopilotError('no_wallet', 'no wallet is connected: connect one in the options');
      try {
        return await deps.wallet(ctx ?? {});
      } catch (e) {
        throw new AutopilotError('wallet_unavailable', `the wallet cannot be reached: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    },

    networks(wallet) {
      let p = networkCache.get(wallet);
      if (!p) {
        p = (async () => {
          if (!wallet.getInfo) return undefined;
          try {
            const n = (await wallet.getInfo()).network;
            const net = n ? NETWORK_NAMES[n.toLowerCase()] : undefined;
            return net ? [net] : undefined;
          } catch {
            return undefined; // unknown network: the invoice's own network is not checked against it
          }
        })();
        networkCache.set(wallet, p);
      }
      return p;
    },

    ask(origin, build) {
      return inSlot(origin, async (deniedMeanwhile) => {
        if (deniedMeanwhile) return { choice: 'deny' } satisfies PromptAnswer;
        const answer = await deps.prompt(build());
        if (answer.choice === 'deny') noteDeny(origin);
        return answer;
      });
    },

    async pay(req, wallet, initialSettings) {
      let settings = initialSettings;
      const walletKind = settings.wallet.kind === 'webln' ? 'webln' : 'nwc';
      const origin = req.intent.serviceOrigin;
      // The site the user is on: its prompt slot, and the rule "approve and set a budget" creates.
      const site = req.intent.initiator;
      const breaker =
        req.intent.kind !== 'webln' ? (deps.breaker === undefined ? DEFAULT_BREAKER : deps.breaker) : null;
      const prepare = (force: boolean): Promise<PrepareResult> =>
        preparePayment(deps, {
          ...req.intent,
          rules: settings.rules,
          walletKind,
          force,
          ...(breaker ? { breaker } : {}),
        });

      const asks = (o: PrepareResult): o is Extract<PrepareResult, { decision: unknown }> =>
        (o.kind === 'blocked' || o.kind === 'unpayable') && o.decision.action === 'ask';
      let outcome = await prepare(false);
      let approved = false;
      if (asks(outcome)) {
        // Ask inside this site's prompt slot, re-checking first: an answer given meanwhile may cover it.
        outcome = await inSlot(site, async (deniedMeanwhile): Promise<PrepareResult | 'denied'> => {
          const again = await prepare(false);
          if (!asks(again)) return again;
          if (deniedMeanwhile) return 'denied';
          const d = again.decision;
          const now = deps.clock();
          const answer = await deps.prompt({
            id: newId(),
            kind: req.promptKind,
            origin,
            initiator: req.intent.initiator,
            url: req.intent.url,
            amountMsat: req.intent.invoice.amountMsat,
            maxFeeMsat: d.maxFeeMsat,
            memo: req.intent.invoice.description,
            reason: d.reason,
            siteRemainingMsat: d.siteRemainingMsat,
            dailyRemainingMsat: d.dailyRemainingMsat,
            expiresAt: now + (deps.promptTimeoutMs ?? 120_000),
          });
          if (answer.choice === 'deny') {
            noteDeny(site);
            return 'denied';
          }
          if (answer.choice === 'approve-and-budget') {
            settings = await upsertSiteRule(deps.storage, {
              pattern: site,
              budgetMsat: answer.budgetMsat,
              period: answer.period,
              autoPay: true,
            });
          }
          approved = true;
          return prepare(true);
        }).then((r) => {
          if (r === 'denied') throw new AutopilotError('rejected_by_user', `you declined to pay ${origin}`);
          return r;
        });
      }
      if (outcome.kind === 'reserved') {
        return { record: await executePayment({ ...deps, wallet, walletKind }, outcome.record), paid: true };
      }
      if (outcome.kind === 'unpayable' && (outcome.decision.action === 'pay' || approved)) {
        // Same code as a wallet's own refusal (executePayment), without asking the wallet.
        throw new AutopilotError('payment_failed', 'the wallet could not pay this invoice');
      }
      if (outcome.kind === 'known') {
        if (outcome.record.status === 'succeeded') return { record: outcome.record, paid: false };
        throw new AutopilotError('payment_unknown', 'this invoice is already being paid; its outcome is not known yet');
      }
      throw new AutopilotError('denied', `not paid: ${outcome.decision.reason}`);
    },
  };
  return flow;
}
