// The agent's engine: the extension's rules, reservations, payer, ledger and tokens over the SQLite storage, with
// the NWC wallet. Nobody can be asked here, so where the extension would prompt, the agent refuses and says why.
import { isAutopilotError } from '../extension/background/errors.ts';
import { listPayments } from '../extension/background/ledger.ts';
import { resolveOpenFirst } from '../extension/background/open-payments.ts';
import { createPaymentFlow } from '../extension/background/payment-flow.ts';
import { executePayment, preparePayment, type ResumeSummary, resumePending } from '../extension/background/payer.ts';
import { periodStart, renewsAt } from '../extension/background/periods.ts';
import {
  budgetTotals,
  countedMsat,
  dailySpentMsat,
  listReservations,
  siteOf,
} from '../extension/background/reservations.ts';
import { type Decision, evaluate, matchesPattern, maxFeeFor } from '../extension/background/rules.ts';
import { loadSettings, updateSettings } from '../extension/background/settings.ts';
import { chainLock, type KeyValueStorage } from '../extension/background/storage.ts';
import { authorizationOf, evictToken, findToken } from '../extension/background/tokens.ts';
import type { StoredToken } from '../extension/model/model.ts';
import type { PaymentRecord, Rules, Settings } from '../extension/model/model.ts';
import { oneTimeCredential, unsupportedText } from '../extension/background/demand.ts';
import {
  type CheckedOption,
  chooseOption,
  isL402Error,
  type Network,
  type PaymentOption,
  readPaymentDemand,
} from '../l402/index.ts';
import { createNwcWallet } from '../wallet/nwc.ts';
import type { Wallet } from '../wallet/wallet.ts';
import { AgentError, fromAutopilotCode } from './errors.ts';
import { type Home, readSecret } from './home.ts';
import { errorMessage } from '../util/error-message.ts';

/** One HTTP request, as given on the command line or to the MCP `fetch` tool. */
export interface AgentRequest {
  url: string;
  method?: string;
  headers?: [string, string][];
  body?: string | Uint8Array<ArrayBuffer>;
  /** Refuse any single payment above this many sats (amount + max fee), on top of the rules. */
  maxSats?: number;
}

/** The scheme paid, as the CLI and MCP name it. */
type PaidScheme = 'L402' | 'Payment' | 'x402';
const SCHEME_LABEL: Readonly<Record<PaymentOption['scheme'], PaidScheme>> = {
  l402: 'L402',
  payment: 'Payment',
  x402: 'x402',
};

interface Paid {
  scheme: PaidScheme;
  amountSats: number;
  feeSats: number | null;
  paymentHash: string;
  preimage: string;
  origin: string;
}

interface FetchResult {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** What this call paid; null when it paid nothing (no 402, or a stored token served). */
  paid: Paid | null;
  /** A stored token was sent with the request that got this response. */
  usedToken: boolean;
}

interface Preview {
  url: string;
  status: number;
  /** The price of the one option that would be paid (the core's choice), when the server asked for one. */
  challenge: {
    scheme: PaidScheme;
    /** True for an L402 token (later calls reuse it); false for a one-time charge. */
    reusable: boolean;
    amountSats: number;
    maxFeeSats: number;
    paymentHash: string;
    description: string | null;
    expiresAt: number;
  } | null;
  /** A stored token would be sent (and the server accepted it: no payment needed). */
  tokenAccepted: boolean;
  verdict: { action: 'pay' | 'refuse' | 'none'; reason: string };
}

interface BudgetReport {
  enabled: boolean;
  perPaymentCapSats: number | null;
  daily: { capSats: number | null; spentSats: number; leftSats: number | null; renewsAt: number | null };
  run: { budgetSats: number | null; spentSats: number; leftSats: number | null };
  sites: {
    pattern: string;
    period: string;
    autoPay: boolean;
    budgetSats: number;
    spentSats: number;
    leftSats: number;
    renewsAt: number | null;
  }[];
}

interface AgentOptions {
  home: Home;
  storage: KeyValueStorage;
  clock?: () => number;
  /** Budget for this process's lifetime, msat (null: none). */
  runBudgetMsat?: number | null;
  /** How long a wallet call may take before its outcome counts as unknown, ms. */
  walletTimeoutMs?: number;
  /** Makes the wallet (tests pass fakes); default: NWC from the stored URI. */
  walletFor?: (uri: string) => Wallet;
}

const sats = (msat: number) => msat / 1000;
const EXPIRY_MARGIN_SECONDS = 5;

/** Key of the agent's own settings (the per-run budget default) beside the engine's `settings`. */
export const AGENT_CONFIG_KEY = 'agent:config';
export interface AgentConfig {
  /** Default per-run budget, msat; null: none. */
  runBudgetMsat: number | null;
}

export async function loadAgentConfig(storage: KeyValueStorage): Promise<AgentConfig> {
  return { runBudgetMsat: null, ...(await storage.get<Partial<AgentConfig>>(AGENT_CONFIG_KEY)) };
}

function refusalOf(d: Decision): string {
  if (d.action === 'ask') {
    return `${d.reason} (an agent cannot be asked: change the rules with \`l402-autopilot rules set\`)`;
  }
  return d.reason;
}

export class Agent {
  readonly storage: KeyValueStorage;
  readonly clock: () => number;
  readonly home: Home;
  readonly runBudgetMsat: number | null;
  private runSpentMsat = 0;
  private walletPromise: Promise<Wallet> | null = null;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly options: AgentOptions;

  constructor(options: AgentOptions) {
    this.options = options;
    this.storage = options.storage;
    this.clock = options.clock ?? Date.now;
    this.home = options.home;
    this.runBudgetMsat = options.runBudgetMsat ?? null;
  }

  /** Current settings (rules); the wallet URI lives in its own file, never in the database. */
  settings(): Promise<Settings> {
    return loadSettings(this.storage);
  }

  updateRules(change: (r: Rules) => Rules): Promise<Settings> {
    return updateSettings(this.storage, (s) => ({ ...s, rules: change(s.rules) }));
  }

  /** The NWC wallet; throws `wallet_unreachable` when none is connected. */
  wallet(): Promise<Wallet> {
    this.walletPromise ??= (async () => {
      let uri: string | null;
      try {
        uri = readSecret(this.home.walletFile);
      } catch (e) {
        throw new AgentError('wallet_unreachable', errorMessage(e));
      }
      if (!uri)
        throw new AgentError(
          'wallet_unreachable',
          'no wallet is connected: run `l402-autopilot wallet connect <nwc-uri>`',
        );
      return this.options.walletFor
        ? this.options.walletFor(uri)
        : createNwcWallet(uri, { timeoutMs: this.options.walletTimeoutMs ?? 60_000 });
    })();
    return this.walletPromise;
  }

  /** Looks up every payment left pending or unknown (by a crash or a timeout) and settles or releases it. Never pays. */
  async resume(): Promise<ResumeSummary> {
    const open = await listPayments(this.storage, { status: ['pending', 'unknown'] });
    if (open.length === 0) return { succeeded: [], failed: [], stillUnknown: [] };
    return resumePending({ storage: this.storage, clock: this.clock, wallet: await this.wallet() });
  }

  close(): void {
    if (this.walletPromise) void this.walletPromise.then((w) => w.close?.()).catch(() => undefined);
  }

  private async send(
    req: AgentRequest,
    authorization: string | null,
    extra?: { header: string; value: string },
  ): Promise<Response> {
    const headers = new Headers(req.headers ?? []);
    if (authorization) headers.set('authorization', authorization);
    if (extra) headers.set(extra.header, extra.value);
    try {
      return await fetch(req.url, {
        method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
        headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        redirect: 'follow',
      });
    } catch (e) {
      throw new AgentError(
        'error',
        `cannot reach ${req.url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`,
      );
    }
  }

  /** Sends the request with a stored token when one fits; drops a token the server refuses. */
  private async sendWithToken(req: AgentRequest): Promise<{ res: Response; usedToken: boolean }> {
    const own = new Headers(req.headers ?? []).has('authorization');
    const token = own ? null : await findToken(this, req.url);
    const auth = token && authorizationOf(token);
    let res = await this.send(req, auth);
    if (auth && (res.status === 401 || res.status === 402)) {
      await evictToken(this, req.url, auth);
      if (res.status === 401) {
        await res.body?.cancel();
        res = await this.send(req, null);
      }
      return { res, usedToken: false };
    }
    return { res, usedToken: auth !== null };
  }

  /**
   * The one option of a 402 this agent pays (the core's choice: a reusable L402 token over a one-time charge, else
   * the cheapest), its invoice checked; null when the response asks for no payment we know of.
   */
  private async challengeOf(res: Response, networks: Network[] | undefined): Promise<CheckedOption | null> {
    const demand = readPaymentDemand({
      wwwAuthenticate: res.headers.get('www-authenticate'),
      paymentRequired: res.headers.get('payment-required'),
    });
    if (demand.options.length === 0) {
      const unsupported = unsupportedText(demand);
      if (unsupported !== null) throw new AgentError('bad_challenge', `the server asks for ${unsupported}`);
      const broken = demand.unsupported[0];
      if (broken) throw new AgentError('bad_challenge', `the server asks for a malformed challenge (${broken.reason})`);
      return null;
    }
    const { chosen, refused } = chooseOption(demand, {
      now: this.clock() / 1000,
      expiryMarginSeconds: EXPIRY_MARGIN_SECONDS,
      ...(networks ? { networks } : {}),
    });
    if (chosen) return chosen;
    const first = refused[0];
    const why =
      first && isL402Error(first.error) ? `${first.error.code}: ${first.error.message}` : 'no option is payable';
    const scheme = first ? SCHEME_LABEL[first.option.scheme] : 'L402';
    throw new AgentError('bad_challenge', `the ${scheme} challenge cannot be paid: ${why}`);
  }

  /** What the rules, `maxSats` and the run budget say about paying `amountMsat` to `origin` now. */
  async verdict(
    origin: string,
    amountMsat: number,
    maxSats?: number,
  ): Promise<{ decision: Decision; refusal: string | null }> {
    const { rules } = await this.settings();
    const totals = budgetTotals(await listReservations(this.storage), rules, origin, this.clock());
    const decision = evaluate({
      rules,
      serviceOrigin: origin,
      initiator: origin,
      amountMsat,
      invalid: null,
      ...totals,
    });
    return {
      decision,
      refusal:
        this.extraRefusal(decision.reserveMsat, maxSats) ?? (decision.action === 'pay' ? null : refusalOf(decision)),
    };
  }

  private extraRefusal(reserveMsat: number, maxSats?: number): string | null {
    if (maxSats !== undefined && reserveMsat > maxSats * 1000) {
      return `over --max-sats: ${sats(reserveMsat)} sats with max fee, limit ${maxSats}`;
    }
    if (this.runBudgetMsat !== null && this.runSpentMsat + reserveMsat > this.runBudgetMsat) {
      return `over this run's budget: ${sats(this.runSpentMsat + reserveMsat)} of ${sats(this.runBudgetMsat)} sats`;
    }
    return null;
  }

  /**
   * Pays the challenge under the rules: run-budget check and engine reservation together (so concurrent calls of
   * this process cannot pass the run budget), then the engine's payer. Returns the settled record.
   */
  private async pay(
    url: string,
    v: CheckedOption,
    maxSats?: number,
  ): Promise<{ record: PaymentRecord; paid: boolean }> {
    const origin = new URL(url).origin;
    const settings = await this.settings();
    const reserveMsat = v.invoice.amountMsat + maxFeeFor(v.invoice.amountMsat, settings.rules);
    const deps = { storage: this.storage, clock: this.clock };
    const prepared = await chainLock('l402-autopilot:run-budget', async () => {
      const extra = this.extraRefusal(reserveMsat, maxSats);
      if (extra) throw new AgentError('refused', `not paid: ${extra}`);
      const p = await preparePayment(deps, {
        invoice: v.invoice,
        serviceOrigin: origin,
        initiator: origin,
        url,
        kind: v.option.scheme,
        // Only an L402 payment buys a token; a one-time charge is credited on one retry and kept nowhere.
        macaroon: v.option.scheme === 'l402' ? v.option.challenge.macaroon : null,
        rules: settings.rules,
        walletKind: 'nwc',
      });
      if (p.kind === 'reserved') this.runSpentMsat += reserveMsat;
      return p;
    });
    if (prepared.kind === 'blocked') throw new AgentError('refused', `not paid: ${refusalOf(prepared.decision)}`);
    // A hash this engine paid for another service or page: refused exactly like an invoice the wallet cannot pay.
    if (prepared.kind === 'unpayable') throw new AgentError('payment_failed', 'the wallet could not pay this invoice');
    if (prepared.kind === 'known') {
      if (prepared.record.status === 'succeeded') return { record: prepared.record, paid: false };
      throw new AgentError('payment_unknown', 'this invoice is already being paid; its outcome is not known yet');
    }
    try {
      const record = await executePayment({ ...deps, wallet: await this.wallet(), walletKind: 'nwc' }, prepared.record);
      this.runSpentMsat += record.amountMsat + (record.feeMsat ?? record.maxFeeMsat) - reserveMsat;
      return { record, paid: true };
    } catch (e) {
      if (isAutopilotError(e)) {
        const code = fromAutopilotCode(e.code);
        if (code === 'payment_failed' || code === 'wallet_unreachable') this.runSpentMsat -= reserveMsat;
        throw new AgentError(code, e.message, { cause: e });
      }
      throw e;
    }
  }

  private async networks(): Promise<Network[] | undefined> {
    const wallet = await this.wallet();
    const flow = createPaymentFlow({
      storage: this.storage,
      clock: this.clock,
      wallet: async () => wallet,
      prompt: async () => ({ choice: 'deny' }),
    });
    return flow.networks(wallet);
  }

  /**
   * The request, paying its 402 under the rules: an L402 token once (it serves later calls, in this process and
   * others), or a one-time Payment / x402 charge for this request only. Throws AgentError when it will not or
   * cannot pay.
   */
  async fetch(req: AgentRequest): Promise<FetchResult> {
    const u = new URL(req.url);
    const scope = u.origin + u.pathname;
    // Calls of this process for the same path wait for one in flight instead of paying a second invoice.
    const before = this.inflight.get(scope) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.fetchOnce(req));
    this.inflight.set(scope, mine);
    try {
      return await mine;
    } finally {
      if (this.inflight.get(scope) === mine) this.inflight.delete(scope);
    }
  }

  private async fetchOnce(req: AgentRequest): Promise<FetchResult> {
    const { res, usedToken } = await this.sendWithToken(req);
    if (res.status !== 402) return this.result(res, null, usedToken);
    const v = await this.challengeOf(res, await this.networks());
    if (!v) return this.result(res, null, false);
    await res.body?.cancel();
    // An earlier payment for this scope still open (a wallet timeout, a crash mid-payment, another process): look
    // it up first; its token serves once it succeeded, and no second invoice is paid while it is unknown.
    const open = await this.openFirst(req.url);
    if (open) return this.withToken(req, open);
    const { record, paid } = await this.pay(req.url, v, req.maxSats);
    const paidInfo: Paid | null = paid
      ? {
          scheme: SCHEME_LABEL[v.option.scheme],
          amountSats: sats(record.amountMsat),
          feeSats: record.feeMsat === null ? null : sats(record.feeMsat),
          paymentHash: record.paymentHash,
          preimage: record.preimage ?? '',
          origin: record.origin,
        }
      : null;
    if (v.option.scheme !== 'l402') {
      // A one-time charge: its credential goes on this one retry and is kept nowhere.
      if (!record.preimage) throw new AgentError('payment_unknown', 'the charge was paid but its preimage is unknown');
      const credential = oneTimeCredential(v.option, record.preimage);
      const again = await this.sendOnce(req, credential, `a freshly paid ${SCHEME_LABEL[v.option.scheme]} charge`);
      return this.result(again, paidInfo, false);
    }
    const token = await findToken(this, req.url);
    if (!token || token.paymentHash !== record.paymentHash) {
      throw new AgentError(
        'bad_challenge',
        "the paid token does not cover this URL (the macaroon's path caveat excludes it)",
      );
    }
    const again = await this.sendOnce(req, token, 'a freshly paid token');
    return this.result(again, paidInfo, !paid);
  }

  private async openFirst(url: string): Promise<StoredToken | null> {
    const origin = new URL(url).origin;
    try {
      return await resolveOpenFirst(
        this,
        { serviceUrl: url, origin, initiator: origin },
        { wallet: () => this.wallet().catch(() => null) },
      );
    } catch (e) {
      if (isAutopilotError(e)) throw new AgentError(fromAutopilotCode(e.code), e.message, { cause: e });
      throw e;
    }
  }

  /**
   * The one retry with a token just bought or just found, or with a one-time charge's credential: refused
   * (401/402), a token is forgotten, and nothing more is paid for this request.
   */
  private async sendOnce(
    req: AgentRequest,
    credential: StoredToken | { header: string; value: string },
    what: string,
  ): Promise<Response> {
    const auth = 'paymentHash' in credential ? authorizationOf(credential) : null;
    const again = 'paymentHash' in credential ? await this.send(req, auth) : await this.send(req, null, credential);
    if (again.status === 401 || again.status === 402) {
      if (auth !== null) await evictToken(this, req.url, auth);
      await again.body?.cancel();
      throw new AgentError('bad_challenge', `the server answered ${again.status} to ${what}; not paying again`);
    }
    return again;
  }

  /** The request again with a token an open payment turned into (paid nothing now). */
  private async withToken(req: AgentRequest, token: StoredToken): Promise<FetchResult> {
    return this.result(await this.sendOnce(req, token, 'the token of an earlier payment'), null, true);
  }

  private async result(res: Response, paid: Paid | null, usedToken: boolean): Promise<FetchResult> {
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return {
      status: res.status,
      statusText: res.statusText,
      headers,
      body: new Uint8Array(await res.arrayBuffer()),
      paid,
      usedToken,
    };
  }

  /** Price, scheme and the rules' verdict for a request, paying nothing (the request is sent, without payment). */
  async preview(req: AgentRequest): Promise<Preview> {
    const { res, usedToken } = await this.sendWithToken(req);
    await res.body?.cancel();
    const base = { url: req.url, status: res.status };
    if (res.status !== 402) {
      return {
        ...base,
        challenge: null,
        tokenAccepted: usedToken,
        verdict: {
          action: 'none',
          reason: usedToken ? 'a stored token is accepted: nothing to pay' : 'the server asks for no payment',
        },
      };
    }
    const v = await this.challengeOf(res, undefined);
    if (!v)
      return {
        ...base,
        challenge: null,
        tokenAccepted: false,
        verdict: { action: 'none', reason: 'a 402 with no payment scheme we know' },
      };
    const origin = new URL(req.url).origin;
    const { decision, refusal } = await this.verdict(origin, v.invoice.amountMsat, req.maxSats);
    return {
      ...base,
      challenge: {
        scheme: SCHEME_LABEL[v.option.scheme],
        reusable: v.option.reusable,
        amountSats: sats(v.invoice.amountMsat),
        maxFeeSats: sats(decision.maxFeeMsat),
        paymentHash: v.invoice.paymentHash,
        description: v.invoice.description,
        expiresAt: v.invoice.expiresAt,
      },
      tokenAccepted: false,
      verdict: refusal ? { action: 'refuse', reason: refusal } : { action: 'pay', reason: decision.reason },
    };
  }

  /** What is left: today overall, this run, and per site rule in its current period. */
  async budget(): Promise<BudgetReport> {
    const { rules } = await this.settings();
    const now = this.clock();
    const entries = await listReservations(this.storage);
    const daySpent = dailySpentMsat(entries, now);
    return {
      enabled: rules.enabled,
      perPaymentCapSats: rules.perPaymentCapMsat === null ? null : sats(rules.perPaymentCapMsat),
      daily: {
        capSats: rules.dailyCapMsat === null ? null : sats(rules.dailyCapMsat),
        spentSats: sats(daySpent),
        leftSats: rules.dailyCapMsat === null ? null : sats(Math.max(0, rules.dailyCapMsat - daySpent)),
        renewsAt: renewsAt(now, 'daily'),
      },
      run: {
        budgetSats: this.runBudgetMsat === null ? null : sats(this.runBudgetMsat),
        spentSats: sats(this.runSpentMsat),
        leftSats: this.runBudgetMsat === null ? null : sats(Math.max(0, this.runBudgetMsat - this.runSpentMsat)),
      },
      sites: rules.sites.map((s) => {
        const since = periodStart(now, s.period);
        // As the engine counts a site budget: every entry caused by a page the pattern matches, this period.
        const spent = entries.reduce(
          (n, e) => (e.at >= since && matchesPattern(s.pattern, siteOf(e)) ? n + countedMsat(e) : n),
          0,
        );
        return {
          pattern: s.pattern,
          period: s.period,
          autoPay: s.autoPay,
          budgetSats: sats(s.budgetMsat),
          spentSats: sats(spent),
          leftSats: sats(Math.max(0, s.budgetMsat - spent)),
          renewsAt: renewsAt(now, s.period),
        };
      }),
    };
  }
}
