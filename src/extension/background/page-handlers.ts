// PageApi handlers (docs/design.md#secure): everything a page may ask. The page's origin is `ctx.pageOrigin`, taken from
// the browser's `sender` by index.ts — never from the payload. Tokens are handed out only for requests
// the page itself makes and only if the page may see them (tokens.ts `grantedTo`).
import type { Handlers, PageApi } from '../messaging/protocol.ts';
import type { Settings } from '../model/model.ts';
import type { Autopilot } from './autopilot.ts';
import { challengeLines, splitLines } from './demand.ts';
import { AutopilotError } from './errors.ts';
import { type HeaderRuleDeps, headerRuleFor } from './header-rules.ts';
import { listTokens } from './tokens.ts';
import type { KeyValueStorage } from './storage.ts';
import {
  handleWeblnEnable,
  handleWeblnGetBalance,
  handleWeblnGetInfo,
  handleWeblnKeysend,
  handleWeblnMakeInvoice,
  handleWeblnLookupInvoice,
  handleWeblnSendPayment,
  handleWeblnSignMessage,
  weblnPermission,
} from './webln-payments.ts';

/** Who is asking, from `sender` (trusted). */
export interface PageCtx {
  /** The page's origin, from `sender` (never from the message). */
  pageOrigin: string;
  tabId: number;
}

interface PageHandlerDeps {
  autopilot: Autopilot;
  storage: KeyValueStorage;
  settings(): Promise<Settings>;
  headerRules: HeaderRuleDeps;
  /** Did the browser deliver this 402 to this tab (seen-challenges.ts)? */
  wasSeen(tabId: number, url: string, wwwAuthenticate: string[]): Promise<boolean>;
  /** Resolves once the background's own handling of the latest 402 for `url` in this tab (detector.ts) is over. */
  detected(tabId: number, url: string): Promise<void>;
}

export function createPageHandlers(deps: PageHandlerDeps): Handlers<PageApi, PageCtx> {
  const { autopilot } = deps;
  return {
    async hello(_arg, ctx) {
      const s = await deps.settings();
      const scopes = (await listTokens(autopilot.flow.deps))
        .filter((t) => t.origin === ctx.pageOrigin || t.grantedTo.includes(ctx.pageOrigin))
        .map((t) => ({ origin: t.origin, pathPrefix: t.pathPrefix }));
      return { webln: s.webln, scopes };
    },
    async challenge(arg, ctx) {
      // Only a 402 the browser really delivered to this tab for this URL (never one the page made up).
      // Firefox joins repeated WWW-Authenticate lines with newlines (the detector splits them the same way).
      const www = splitLines(arg.wwwAuthenticate);
      if (!(await deps.wasSeen(ctx.tabId, arg.url, challengeLines(www, arg.paymentRequired)))) {
        throw new AutopilotError('invalid_challenge', 'this 402 was not received by this page: not paid');
      }
      const r = await autopilot.handleDemand({
        serviceUrl: arg.url,
        initiator: ctx.pageOrigin,
        tabId: ctx.tabId,
        wwwAuthenticate: www,
        ...(arg.paymentRequired ? { paymentRequired: arg.paymentRequired } : {}),
        source: 'fetch',
        // Checked just above against what webRequest recorded for this tab.
        confirmedByBrowser: true,
      });
      if (r.oneTime) return { authorization: r.authorization, scope: null, header: r.header, oneTime: true };
      return { authorization: r.authorization, scope: { origin: r.token.origin, pathPrefix: r.token.pathPrefix } };
    },
    async authorizationFor(arg, ctx) {
      return { authorization: await autopilot.attachFor(arg.url, ctx.pageOrigin) };
    },
    async tokenRejected(arg, ctx) {
      // A page may only evict a token it could see (it sends the header it used, which it must hold).
      if ((await autopilot.authorizationFor(arg.url, ctx.pageOrigin)) !== arg.authorization) return { evicted: false };
      return autopilot.tokenRejected(arg.url, arg.authorization);
    },
    async paidInBackground(arg, ctx) {
      await deps.detected(ctx.tabId, arg.url);
      // Only a rule for this page's own requests: the retry carries nothing the page could not get by retrying itself.
      return {
        retry: (await headerRuleFor(deps.headerRules, ctx.tabId, arg.url, 'xmlhttprequest', ctx.pageOrigin)) !== null,
      };
    },
    weblnEnable: (_a, ctx) => handleWeblnEnable(autopilot.flow, { pageOrigin: ctx.pageOrigin }),
    async weblnIsEnabled(_a, ctx) {
      return { enabled: await weblnPermission.isEnabled(deps.storage, ctx.pageOrigin) };
    },
    weblnGetInfo: (_a, ctx) => handleWeblnGetInfo(autopilot.flow, { pageOrigin: ctx.pageOrigin, tabId: ctx.tabId }),
    weblnSendPayment: (a, ctx) =>
      handleWeblnSendPayment(autopilot.flow, {
        pageOrigin: ctx.pageOrigin,
        tabId: ctx.tabId,
        paymentRequest: a.paymentRequest,
      }),
    weblnKeysend: (a, ctx) =>
      handleWeblnKeysend(autopilot.flow, {
        pageOrigin: ctx.pageOrigin,
        tabId: ctx.tabId,
        destination: a.destination,
        amount: a.amount,
        ...(a.customRecords ? { customRecords: a.customRecords } : {}),
      }),
    weblnMakeInvoice: (a, ctx) =>
      handleWeblnMakeInvoice(autopilot.flow, {
        pageOrigin: ctx.pageOrigin,
        tabId: ctx.tabId,
        ...(a.amount === undefined ? {} : { amount: a.amount }),
        ...(a.defaultMemo ? { defaultMemo: a.defaultMemo } : {}),
      }),
    weblnGetBalance: (_a, ctx) =>
      handleWeblnGetBalance(autopilot.flow, { pageOrigin: ctx.pageOrigin, tabId: ctx.tabId }),
    weblnLookupInvoice: (a, ctx) =>
      handleWeblnLookupInvoice(autopilot.flow, { pageOrigin: ctx.pageOrigin, tabId: ctx.tabId, ...a }),
    weblnSignMessage: (a, ctx) =>
      handleWeblnSignMessage(autopilot.flow, { pageOrigin: ctx.pageOrigin, tabId: ctx.tabId, message: a.message }),
  };
}
