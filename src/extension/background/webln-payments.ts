// window.webln provided by the extension (docs/design.md#provide-webln): `enable()` asks per-site permission,
// `sendPayment` goes through the same rules, prompts, reservation and preimage check as L402 payments.
// The origin is the page's, from the browser (`sender.origin`), never from the message.
import {
  assertPayable,
  bytesToHex,
  type DecodedInvoice,
  decodeInvoice,
  isL402Error,
  paymentHashOf,
} from '../../l402/index.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/wallet.ts';
import { AutopilotError } from './errors.ts';
import { getPayment } from './ledger.ts';
import type { Settings } from '../model/model.ts';
import type { PaymentFlow, WalletContext } from './payment-flow.ts';
import { siteRuleFor } from './rules.ts';
import type { KeyValueStorage } from './storage.ts';
import { errorMessage } from '../../util/error-message.ts';

const PREFIX = 'webln-permission:';

/** A site the user allowed to use window.webln. */
interface WeblnPermission {
  origin: string;
  enabledAt: number;
}

/** Per-site WebLN permission store. */
export const weblnPermission = {
  async get(storage: KeyValueStorage, origin: string): Promise<WeblnPermission | null> {
    return (await storage.get<WeblnPermission>(PREFIX + origin)) ?? null;
  },
  async isEnabled(storage: KeyValueStorage, origin: string): Promise<boolean> {
    return (await storage.get<WeblnPermission>(PREFIX + origin)) !== undefined;
  },
  async enable(storage: KeyValueStorage, origin: string, now: number): Promise<WeblnPermission> {
    const p: WeblnPermission = { origin, enabledAt: now };
    await storage.set(PREFIX + origin, p);
    return p;
  },
  async revoke(storage: KeyValueStorage, origin: string): Promise<boolean> {
    if ((await storage.get<WeblnPermission>(PREFIX + origin)) === undefined) return false;
    await storage.remove(PREFIX + origin);
    return true;
  },
  async list(storage: KeyValueStorage): Promise<WeblnPermission[]> {
    return [...(await storage.getAll<WeblnPermission>(PREFIX)).values()];
  },
};

/** Asks the user a yes/no question about `origin` that moves no money (prompt kind `webln-enable`). */
function askWithoutAmount(flow: PaymentFlow, origin: string, q: { memo: string | null; reason: string }) {
  const { clock } = flow.deps;
  return flow.ask(origin, () => ({
    id: (flow.deps.newId ?? (() => crypto.randomUUID()))(),
    kind: 'webln-enable',
    origin,
    initiator: origin,
    url: origin,
    amountMsat: 0,
    maxFeeMsat: 0,
    memo: q.memo,
    reason: q.reason,
    siteRemainingMsat: null,
    dailyRemainingMsat: null,
    expiresAt: clock() + (flow.deps.promptTimeoutMs ?? 120_000),
  }));
}

/**
 * `webln.enable()` from a page: already allowed → ok; otherwise ask the user (prompt kind `webln-enable`).
 * Throws AutopilotError `rejected_by_user`.
 */
export async function handleWeblnEnable(flow: PaymentFlow, args: { pageOrigin: string }): Promise<{ enabled: true }> {
  const { storage, clock } = flow.deps;
  if (await weblnPermission.isEnabled(storage, args.pageOrigin)) return { enabled: true };
  const answer = await askWithoutAmount(flow, args.pageOrigin, {
    memo: null,
    reason: 'this site asks to use your wallet through WebLN',
  });
  if (answer.choice === 'deny')
    throw new AutopilotError('rejected_by_user', `you did not allow ${args.pageOrigin} to use WebLN`);
  await weblnPermission.enable(storage, args.pageOrigin, clock());
  return { enabled: true };
}

/**
 * `webln.sendPayment(bolt11)` from an enabled page: decode, sanity (amount, expiry, network), rules → prompt →
 * reserve → pay → verify preimage → commit; recorded as a `webln` payment of the page origin.
 * Throws AutopilotError (`not_enabled`, `invalid_challenge`, `denied`, `rejected_by_user`, payment errors).
 * @example await handleWeblnSendPayment(flow, { pageOrigin: sender.origin, paymentRequest })
 */
export async function handleWeblnSendPayment(
  flow: PaymentFlow,
  args: { pageOrigin: string; paymentRequest: string; tabId?: number },
): Promise<{ preimage: string }> {
  const { clock } = flow.deps;
  await requireEnabled(flow, args.pageOrigin);
  const settings = await flow.settings();
  if (!settings.rules.enabled) throw new AutopilotError('denied', 'not paid: L402 Autopilot is switched off');
  const wallet = await flow.wallet(settings, walletCtx(args));
  let invoice: ReturnType<typeof assertPayable>;
  try {
    invoice = assertPayable(decodeInvoice(args.paymentRequest), {
      now: clock() / 1000,
      networks: await flow.networks(wallet),
      expiryMarginSeconds: 5,
    });
  } catch (e) {
    throw new AutopilotError('invalid_challenge', `the invoice cannot be paid: ${errorMessage(e)}`, {
      cause: e,
      coreCode: isL402Error(e) ? e.code : undefined,
    });
  }
  return payWebln(flow, invoice, args.pageOrigin, wallet, settings);
}

/** One WebLN spend down the common road (rules → prompt → reserve → pay → verify → commit); returns the preimage. */
async function payWebln(
  flow: PaymentFlow,
  invoice: DecodedInvoice & { amountMsat: number },
  origin: string,
  payer: Wallet,
  settings: Settings,
): Promise<{ preimage: string }> {
  const { record } = await flow.pay(
    { intent: weblnIntent(invoice, origin, settings), promptKind: 'webln-payment' },
    payer,
    settings,
  );
  if (!record.preimage) throw new AutopilotError('payment_failed', 'paid, but the wallet gave no preimage');
  return { preimage: record.preimage };
}

/**
 * A WebLN payment names no L402 service the browser saw: any enabled page can hand us any invoice.
 * So `autoPayUnlisted` (meant for L402 challenges) never covers it: a site without a budget of its
 * own is asked every time; a site with one is paid within it. The calling page is both the service and
 * the initiator: the budget is the page's own.
 */
function weblnIntent(invoice: DecodedInvoice & { amountMsat: number }, origin: string, settings: Settings) {
  const ownRule = siteRuleFor(settings.rules.sites, origin);
  return {
    invoice,
    serviceOrigin: origin,
    initiator: origin,
    url: origin,
    kind: 'webln' as const,
    macaroon: null,
    ...(ownRule ? {} : { mustAsk: 'a WebLN payment from a site without a budget of its own' }),
  };
}

const walletCtx = (a: { tabId?: number }): WalletContext => (a.tabId === undefined ? {} : { tabId: a.tabId });

/** Every WebLN method but enable() needs the site's permission first. */
async function requireEnabled(flow: PaymentFlow, origin: string): Promise<void> {
  if (!(await weblnPermission.isEnabled(flow.deps.storage, origin))) {
    throw new AutopilotError('not_enabled', 'call webln.enable() first: this site is not allowed to use WebLN');
  }
}

/** The WebLN-style refusal for a method the wallet cannot do (joule-labs UnsupportedMethodError wording). */
function unsupportedError(method: string, cause?: unknown): AutopilotError {
  return new AutopilotError(
    'unsupported',
    `${method} is not supported by this wallet`,
    cause === undefined ? undefined : { cause },
  );
}

/** Whether `wallet` can do `method`: it has it, and (when it can tell) says so. */
/** Does the wallet offer an optional method (NWC: the connection's method list)? A failed check means no. */
async function walletSupports(wallet: Wallet, method: 'lookupInvoice' | 'keysend' | 'signMessage'): Promise<boolean> {
  if (typeof wallet[method] !== 'function') return false;
  return wallet.supports ? wallet.supports(method).catch(() => false) : true;
}

/** The asking page's wallet once it is enabled: for wallet kind 'webln' that tab's own provider (never another's). */
async function enabledWallet(flow: PaymentFlow, args: { pageOrigin: string; tabId?: number }): Promise<Wallet> {
  await requireEnabled(flow, args.pageOrigin);
  return flow.wallet(await flow.settings(), walletCtx(args));
}

/** `webln.getInfo()`: the node and the methods this wallet really offers. */
export async function handleWeblnGetInfo(
  flow: PaymentFlow,
  args: { pageOrigin: string; tabId?: number },
): Promise<{ node: { alias: string; pubkey: string }; methods: string[] }> {
  const w = await enabledWallet(flow, args);
  const info = w.getInfo ? await w.getInfo() : null;
  const methods = ['enable', 'getInfo', 'sendPayment', 'isEnabled'];
  if (w.makeInvoice) methods.push('makeInvoice');
  if (w.getBalance) methods.push('getBalance');
  for (const m of ['keysend', 'lookupInvoice', 'signMessage'] as const) if (await walletSupports(w, m)) methods.push(m);
  return { node: { alias: info?.alias ?? '', pubkey: info?.pubkey ?? '' }, methods };
}

/** `webln.makeInvoice()`: an invoice TO the user (no money leaves); an amount of 0 or none is "any amount". */
export async function handleWeblnMakeInvoice(
  flow: PaymentFlow,
  args: { pageOrigin: string; tabId?: number; amount?: string | number; defaultMemo?: string },
): Promise<{ paymentRequest: string }> {
  const w = await enabledWallet(flow, args);
  if (!w.makeInvoice) throw unsupportedError('makeInvoice');
  const amountMsat = satsToMsat(args.amount ?? 0, { allowZero: true });
  const r = await w.makeInvoice({ amountMsat, ...(args.defaultMemo ? { description: args.defaultMemo } : {}) });
  return { paymentRequest: r.paymentRequest };
}

/** `webln.getBalance()`, in whole sats. */
export async function handleWeblnGetBalance(
  flow: PaymentFlow,
  args: { pageOrigin: string; tabId?: number },
): Promise<{ balance: number; currency: 'sats' }> {
  const w = await enabledWallet(flow, args);
  if (!w.getBalance) throw unsupportedError('getBalance');
  return { balance: Math.floor((await w.getBalance()).balanceMsat / 1000), currency: 'sats' };
}

/** Maps a non-payment wallet call's failure to an AutopilotError. */
function walletCallError(method: string, e: unknown): AutopilotError {
  if (e instanceof AutopilotError) return e;
  if (e instanceof WalletError) {
    if (e.code === 'unsupported') return unsupportedError(method, e);
    if (e.code === 'rejected') return new AutopilotError('rejected_by_user', `${method}: ${e.message}`, { cause: e });
    if (e.code === 'timeout' || e.code === 'unreachable') {
      return new AutopilotError('wallet_unavailable', `the wallet cannot be reached: ${e.message}`, { cause: e });
    }
    return new AutopilotError('wallet_error', `the wallet refused ${method}: ${e.message}`, { cause: e });
  }
  return new AutopilotError('wallet_error', `${method} failed: ${errorMessage(e)}`, { cause: e });
}

/** Same check as the messaging schema's `amount`, then to msat: a positive whole number of sats. */
/** The one sats → msat conversion of WebLN amounts: whole sats, within the safe integers once in msat. */
function satsToMsat(amount: string | number, o: { allowZero?: boolean } = {}): number {
  const sats = typeof amount === 'number' ? amount : /^\d{1,16}$/.test(amount) ? Number(amount) : Number.NaN;
  const min = o.allowZero ? 0 : 1;
  if (!Number.isSafeInteger(sats) || sats < min || !Number.isSafeInteger(sats * 1000)) {
    throw new AutopilotError('invalid_request', `the amount must be a whole number of sats${min ? ' above 0' : ''}`);
  }
  return sats * 1000;
}

/**
 * `webln.keysend({destination, amount (sats), customRecords})` from an enabled page. Spends money, so it takes the
 * same road as sendPayment: rules → prompt → reserve → pay → verify → commit. We pick the preimage ourselves, so
 * the payment hash is known and the pending record written BEFORE paying (docs/design.md#pay), and the returned
 * preimage is checked against it. A wallet that cannot keysend is refused before anything is reserved.
 * Throws AutopilotError (`not_enabled`, `invalid_request`, `unsupported`, `denied`, `rejected_by_user`, payment errors).
 * @example await handleWeblnKeysend(flow, { pageOrigin: sender.origin, tabId, destination, amount: 21 })
 */
export async function handleWeblnKeysend(
  flow: PaymentFlow,
  args: {
    pageOrigin: string;
    tabId?: number;
    destination: string;
    amount: string | number;
    customRecords?: Record<string, string>;
    /** 32 random bytes, hex (tests pass their own). */
    newPreimage?: () => string;
  },
): Promise<{ preimage: string }> {
  const { clock } = flow.deps;
  await requireEnabled(flow, args.pageOrigin);
  const amountMsat = satsToMsat(args.amount);
  if (!/^0[23][0-9a-f]{64}$/i.test(args.destination)) {
    throw new AutopilotError('invalid_request', 'the destination must be a node public key (66 hex characters)');
  }
  const destination = args.destination.toLowerCase();
  const settings = await flow.settings();
  if (!settings.rules.enabled) throw new AutopilotError('denied', 'not paid: L402 Autopilot is switched off');
  const wallet = await flow.wallet(settings, walletCtx(args));
  const keysend = wallet.keysend?.bind(wallet);
  if (!keysend || !(await walletSupports(wallet, 'keysend'))) throw unsupportedError('keysend');

  const preimage = (args.newPreimage ?? randomPreimage)();
  const paymentHash = paymentHashOf(preimage);
  const nowS = Math.floor(clock() / 1000);
  // Not a BOLT11 invoice: the ledger shows `keysend:<node>` where an invoice would be.
  const invoice: DecodedInvoice & { amountMsat: number } = {
    paymentRequest: `keysend:${destination}`,
    network: (await flow.networks(wallet))?.[0] ?? 'mainnet',
    amountMsat,
    paymentHash,
    description: `keysend to ${destination.slice(0, 10)}…${destination.slice(-6)}`,
    timestamp: nowS,
    expirySeconds: 3600,
    expiresAt: nowS + 3600,
  };
  // The payer pays a record through `payInvoice`: here that means this one keysend, with our preimage.
  const payer: Wallet = {
    payInvoice: () =>
      keysend({
        destination,
        amountMsat,
        preimage,
        ...(args.customRecords ? { customRecords: args.customRecords } : {}),
      }),
    ...(wallet.lookupPayment ? { lookupPayment: wallet.lookupPayment.bind(wallet) } : {}),
  };
  try {
    return await payWebln(flow, invoice, args.pageOrigin, payer, settings);
  } catch (e) {
    // NOT_IMPLEMENTED from a wallet that listed pay_keysend anyway: still the clean WebLN refusal.
    if (e instanceof AutopilotError && e.cause instanceof WalletError && e.cause.code === 'unsupported')
      throw unsupportedError('keysend', e);
    throw e;
  }
}

function randomPreimage(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The one answer for "no invoice of this wallet": an unknown hash, an outgoing payment, a failed lookup alike. */
const notFound = () =>
  new AutopilotError('wallet_error', 'lookupInvoice: this wallet has no invoice with that payment hash');

/**
 * `webln.lookupInvoice({paymentHash | paymentRequest})` from an enabled page. Only invoices this wallet RECEIVED
 * are answered: a payment it MADE (the wallet says `outgoing`, or the ledger has it) gets exactly the answer of a
 * hash the wallet has never seen, so a page learns nothing of the user's payments — not their existence, and
 * never a preimage (an L402 proof of payment for some other site). docs/security.md "WebLN lookupInvoice".
 */
export async function handleWeblnLookupInvoice(
  flow: PaymentFlow,
  args: { pageOrigin: string; tabId?: number; paymentHash?: string; paymentRequest?: string },
): Promise<{ paymentRequest: string; paid: boolean; preimage?: string }> {
  await requireEnabled(flow, args.pageOrigin);
  let hash = args.paymentHash?.toLowerCase();
  if (!hash && args.paymentRequest) {
    try {
      hash = decodeInvoice(args.paymentRequest).paymentHash;
    } catch (e) {
      throw new AutopilotError('invalid_request', 'lookupInvoice: the payment request is not a valid invoice', {
        cause: e,
      });
    }
  }
  if (!hash || !/^[0-9a-f]{64}$/.test(hash))
    throw new AutopilotError('invalid_request', 'lookupInvoice needs a paymentHash or paymentRequest');
  const wallet = await flow.wallet(await flow.settings(), walletCtx(args));
  if (!(await walletSupports(wallet, 'lookupInvoice')) || !wallet.lookupInvoice)
    throw unsupportedError('lookupInvoice');
  if (await getPayment(flow.deps.storage, hash)) throw notFound();
  let r: Awaited<ReturnType<NonNullable<Wallet['lookupInvoice']>>>;
  try {
    r = await wallet.lookupInvoice(hash);
  } catch (e) {
    const err = walletCallError('lookupInvoice', e);
    // The wallet's own "not found" names the hash and differs from other refusals: one answer for all.
    if (err.code === 'wallet_error') throw notFound();
    throw err;
  }
  // A wallet that does not say (a WebLN provider: the page's own wallet, which it can ask itself) is answered
  // unless the ledger knows the hash (checked above).
  if (r.type === 'outgoing') throw notFound();
  const preimage = r.paid && r.type === 'incoming' && r.preimage ? { preimage: r.preimage } : {};
  return { paymentRequest: r.paymentRequest || args.paymentRequest || '', paid: r.paid, ...preimage };
}

/**
 * `webln.signMessage(message)` from an enabled page: a signature by the node key can vouch for anything, so the
 * user is asked every time (the message is shown), then the wallet signs (NWC sign_message).
 */
export async function handleWeblnSignMessage(
  flow: PaymentFlow,
  args: { pageOrigin: string; tabId?: number; message: string },
): Promise<{ message: string; signature: string }> {
  await requireEnabled(flow, args.pageOrigin);
  const wallet = await flow.wallet(await flow.settings(), walletCtx(args));
  if (!(await walletSupports(wallet, 'signMessage')) || !wallet.signMessage) throw unsupportedError('signMessage');
  const answer = await askWithoutAmount(flow, args.pageOrigin, {
    memo: args.message.length > 280 ? `${args.message.slice(0, 280)}…` : args.message,
    reason: 'this site asks your wallet to sign this message with your node key',
  });
  if (answer.choice === 'deny') throw new AutopilotError('rejected_by_user', 'you declined to sign the message');
  try {
    return await wallet.signMessage(args.message);
  } catch (e) {
    throw walletCallError('signMessage', e);
  }
}
