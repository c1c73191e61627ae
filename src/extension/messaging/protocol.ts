// One typed map per message boundary (docs/design.md#house-style, rule 2). Each map is method → [argument, result].
// The generic send/handle implementation lives in ./channel.ts; handlers are objects keyed by method.
import type {
  ChallengeScheme,
  PaymentRecord,
  PromptAnswer,
  PromptRequest,
  Settings,
  SiteRule,
  StoredToken,
  WeblnInjection,
} from '../model/model.ts';

/** Where a token applies (never the token itself): lets the MAIN world ask for a header only when useful. */
export interface TokenScope {
  origin: string;
  pathPrefix: string;
}

/** Errors cross every boundary serialised like this. */
export interface WireError {
  code: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** Page (MAIN world) → bridge → background. Everything here is UNTRUSTED input; origin comes from `sender`. */
export interface PageApi {
  /**
   * First call of the MAIN-world script: whether to offer `window.webln`, and the scopes for which this page
   * already holds a token (so later requests get the header without a 402 first).
   */
  hello: [Record<string, never>, { webln: WeblnInjection; scopes: TokenScope[] }];
  /** The page saw a 402 with this challenge (fetch/XHR wrapper). Resolves with the header to retry with. */
  challenge: [
    { url: string; method: string; wwwAuthenticate: string[]; paymentRequired?: string },
    /**
     * `header` (default Authorization) carries `authorization` on the retry; `oneTime`: a charge for that one
     * retry only (`Payment` or x402), never attached again and never reported as a refused token.
     */
    { authorization: string; scope: TokenScope | null; header?: string; oneTime?: boolean },
  ];
  /** Header for a later request to `url`, if a token exists that this page may use. */
  authorizationFor: [{ url: string }, { authorization: string | null }];
  /** The server rejected a token (401, or 402 again with a token): forget it. */
  tokenRejected: [{ url: string; authorization: string }, { evicted: boolean }];
  /**
   * The page got a 402 whose challenge it cannot read (CORS without `WWW-Authenticate` exposed), which the
   * background handles from webRequest: waits for that, and says whether a header rule now serves `url` for this
   * page (then the wrapper sends the request once more, and the browser attaches the header).
   */
  paidInBackground: [{ url: string }, { retry: boolean }];
  /** WebLN provided by the extension. */
  weblnEnable: [Record<string, never>, { enabled: true }];
  weblnIsEnabled: [Record<string, never>, { enabled: boolean }];
  weblnGetInfo: [Record<string, never>, { node: { alias: string; pubkey: string }; methods: string[] }];
  weblnSendPayment: [{ paymentRequest: string }, { preimage: string }];
  weblnKeysend: [
    { destination: string; amount: string | number; customRecords?: Record<string, string> },
    { preimage: string },
  ];
  weblnMakeInvoice: [{ amount?: string | number; defaultMemo?: string }, { paymentRequest: string }];
  weblnGetBalance: [Record<string, never>, { balance: number; currency: 'sats' }];
  weblnLookupInvoice: [
    { paymentHash?: string; paymentRequest?: string },
    { paymentRequest: string; paid: boolean; preimage?: string },
  ];
  weblnSignMessage: [{ message: string }, { message: string; signature: string }];
}

/** Background → a tab's bridge → MAIN world: pay through the page's own WebLN provider (another wallet extension). */
export interface TabApi {
  weblnPayViaPage: [{ paymentRequest: string }, { preimage: string }];
}

/** Wallet status as the UI shows it. */
export interface WalletStatus {
  kind: 'nwc' | 'webln' | 'none';
  connected: boolean;
  alias: string | null;
  balanceMsat: number | null;
  methods: string[];
  error: string | null;
}

/** A site the user visits (the popup's tab): what it may spend and has caused to be spent, on any service. */
export interface SiteSummary {
  origin: string;
  rule: SiteRule | null;
  /** Spent + reserved for payments this site caused, in the rule's current period (no rule: today). */
  spentMsat: number;
  /** Unix ms when the site's budget renews; null for `never` or no rule. */
  renewsAt: number | null;
  /** Stored tokens this site can use (for its own origin, or granted to it as the page that paid). */
  tokens: number;
  /** 402s met in this tab since it loaded. */
  challengesSeen: number;
  /** How many of them offered each scheme (a 402 offering two counts for each). */
  challengesBySchemes: Partial<Record<ChallengeScheme, number>>;
}

/** Extension pages (popup, options, onboarding, prompt) → background. Trusted (sender.id === runtime.id, extension URL). */
export interface UiApi {
  getSettings: [Record<string, never>, Settings];
  /** Validates and saves; refuses invalid values with a `code: 'invalid_settings'` error naming the field. */
  saveSettings: [Settings, Settings];
  /** Tries a wallet without saving it. */
  testWallet: [{ uri: string }, WalletStatus];
  getWalletStatus: [Record<string, never>, WalletStatus];
  getOverview: [Record<string, never>, { spentTodayMsat: number; dailyCapMsat: number | null }];
  getSiteSummary: [{ origin: string; tabId?: number }, SiteSummary];
  setSiteAutoPay: [{ origin: string; autoPay: boolean }, SiteSummary];
  listPayments: [{ origin?: string; from?: number; to?: number; limit?: number }, PaymentRecord[]];
  listTokens: [Record<string, never>, StoredToken[]];
  revokeToken: [{ paymentHash: string }, { revoked: boolean }];
  getPrompt: [{ id: string }, PromptRequest | null];
  answerPrompt: [{ id: string; answer: PromptAnswer }, { accepted: boolean }];
}

export type MethodOf<M> = keyof M & string;
export type ArgOf<M, K extends keyof M> = M[K] extends [infer A, unknown] ? A : never;
export type ResultOf<M, K extends keyof M> = M[K] extends [unknown, infer R] ? R : never;
export type Handlers<M, Ctx> = { [K in keyof M]: (arg: ArgOf<M, K>, ctx: Ctx) => Promise<ResultOf<M, K>> };

/** The envelope on the wire, tagged by boundary so a message for one map is never handled by another. */
export interface Envelope<B extends string = string> {
  boundary: B;
  method: string;
  arg: unknown;
}

/** The three boundaries and their maps. */
export interface Boundaries {
  page: PageApi;
  tab: TabApi;
  ui: UiApi;
}
export type BoundaryName = keyof Boundaries;
