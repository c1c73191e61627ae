// Argument checks for every method of every map (docs/design.md#secure: pages are hostile; a message must be
// well-formed before any handler sees it). The key set of each table IS the list of callable methods:
// the mapped types force one entry per map key and nothing else. The tables other than tabChecks are built in
// `@__PURE__` closures so the MAIN-world script, injected into every page, bundles only the one it uses.
import { isPromptAnswer } from '../model/model.ts';
import type { ArgCheck, ArgChecks } from './channel.ts';
import type { PageApi, TabApi, UiApi } from './protocol.ts';

const MAX_URL = 8192;
const MAX_HEADER = 16_384;

type Shape = Record<string, (v: unknown) => boolean>;

const str =
  (max: number, pattern?: RegExp) =>
  (v: unknown): boolean =>
    typeof v === 'string' && v.length <= max && (!pattern || pattern.test(v));
const opt =
  (f: (v: unknown) => boolean) =>
  (v: unknown): boolean =>
    v === undefined || f(v);
const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown): boolean => typeof v === 'boolean';
const amount = (v: unknown): boolean =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || str(20, /^\d+$/)(v);
const httpUrl = (v: unknown): boolean => str(MAX_URL, /^https?:\/\//i)(v);
const hex = (len: number) => str(len, new RegExp(`^[0-9a-fA-F]{${len}}$`));
const stringList = (maxItems: number, maxLen: number) => (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.length <= maxItems && v.every(str(maxLen));
const stringRecord = (v: unknown) =>
  !!v &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.values(v).every(str(MAX_HEADER)) &&
  Object.keys(v).length <= 32;

/** An object with exactly these keys (extra keys refused: they would be silently ignored otherwise). */
function shape(fields: Shape): ArgCheck {
  return (arg) => {
    if (!arg || typeof arg !== 'object' || Array.isArray(arg)) return 'argument must be an object';
    const a = arg as Record<string, unknown>;
    for (const k of Object.keys(a)) if (!Object.hasOwn(fields, k)) return `unexpected field ${k}`;
    for (const [k, ok] of Object.entries(fields)) if (!ok(a[k])) return `bad field ${k}`;
    return null;
  };
}
const empty = /* @__PURE__ */ shape({});

/** What a page may send. Origin is never among the fields: it comes from the browser (docs/design.md#secure). */
export const pageChecks: ArgChecks<PageApi> = /* @__PURE__ */ (() => ({
  hello: empty,
  challenge: (arg) =>
    shape({
      url: httpUrl,
      method: str(16, /^[A-Za-z]+$/),
      wwwAuthenticate: (v: unknown) => (Array.isArray(v) && v.length === 0) || stringList(16, MAX_HEADER)(v),
      paymentRequired: opt(str(MAX_HEADER)),
    })(arg) ??
    // Empty only for an x402 answer, whose demand is in PAYMENT-REQUIRED.
    ((arg as { wwwAuthenticate: unknown[]; paymentRequired?: string }).wwwAuthenticate.length === 0 &&
    !(arg as { paymentRequired?: string }).paymentRequired
      ? 'bad field wwwAuthenticate'
      : null),
  authorizationFor: shape({ url: httpUrl }),
  tokenRejected: shape({ url: httpUrl, authorization: str(MAX_HEADER) }),
  paidInBackground: shape({ url: httpUrl }),
  weblnEnable: empty,
  weblnIsEnabled: empty,
  weblnGetInfo: empty,
  weblnSendPayment: shape({ paymentRequest: str(4096, /^ln/i) }),
  weblnKeysend: shape({ destination: hex(66), amount, customRecords: opt(stringRecord) }),
  weblnMakeInvoice: shape({ amount: opt(amount), defaultMemo: opt(str(640)) }),
  weblnGetBalance: empty,
  weblnLookupInvoice: shape({ paymentHash: opt(hex(64)), paymentRequest: opt(str(4096, /^ln/i)) }),
  weblnSignMessage: shape({ message: str(65_536) }),
}))();

/** The background's requests to a tab (trusted direction, still checked by the MAIN world). */
export const tabChecks: ArgChecks<TabApi> = {
  weblnPayViaPage: shape({ paymentRequest: str(4096, /^ln/i) }),
};

/** Checks of what a tab answers (untrusted: the page can forge it). */
export const tabResultChecks: ArgChecks<TabApi> = /* @__PURE__ */ (() => ({
  weblnPayViaPage: shape({ preimage: hex(64) }),
}))();

/**
 * UI arguments come from the extension's own pages (trusted by sender); the brain's handlers validate
 * settings and answers in depth, so these checks only pin the outer shape.
 */
export const uiChecks: ArgChecks<UiApi> = /* @__PURE__ */ (() => ({
  getSettings: empty,
  saveSettings: (a) => (a && typeof a === 'object' ? null : 'settings must be an object'),
  testWallet: shape({ uri: str(4096) }),
  getWalletStatus: empty,
  getOverview: empty,
  getSiteSummary: shape({ origin: str(MAX_URL), tabId: opt(num) }),
  setSiteAutoPay: shape({ origin: str(MAX_URL), autoPay: bool }),
  listPayments: shape({ origin: opt(str(MAX_URL)), from: opt(num), to: opt(num), limit: opt(num) }),
  listTokens: empty,
  revokeToken: shape({ paymentHash: hex(64) }),
  getPrompt: shape({ id: str(128) }),
  answerPrompt: shape({ id: str(128), answer: isPromptAnswer }),
}))();

/** Method names a page may call, derived from the PageApi map (via its check table). */
export const PAGE_METHODS: readonly (keyof PageApi)[] = /* @__PURE__ */ Object.keys(pageChecks) as (keyof PageApi)[];
