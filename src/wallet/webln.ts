// The Wallet interface over a WebLN provider (docs/design.md#webln): window.webln of any wallet extension, the
// `webln` package's requestProvider(), or @getalby/sdk's NostrWebLNProvider — and over a bare `{ payInvoice }`.
import type { WebLNProvider } from '@webbtc/webln-types';
import { decodeInvoice } from '../l402/index.ts';
import type { InvoiceLookup, PaymentResult, Wallet, WalletErrorCode, WalletInfo } from './wallet.ts';
import { WalletError } from './wallet.ts';
import { errorMessage } from '../util/error-message.ts';

/** Anything with a `payInvoice(bolt11)` that resolves to an object carrying the preimage. */
export interface PayInvoiceLike {
  payInvoice(paymentRequest: string): Promise<{ preimage: string; feeMsat?: number | null }>;
}

/** What a caller may hand in as a wallet. */
export type WalletLike = Wallet | WebLNProvider | PayInvoiceLike;

// joule-labs `webln` error class names (its errors.ts), then common message wording of other providers.
const NAME_CODES: Record<string, WalletErrorCode> = {
  RejectionError: 'rejected',
  UnsupportedMethodError: 'unsupported',
  ConnectionError: 'unreachable',
  RoutingError: 'payment_failed',
  InvalidDataError: 'payment_failed',
  InternalError: 'internal',
  MissingProviderError: 'unreachable',
};
const MESSAGE_CODES: [RegExp, WalletErrorCode][] = [
  [/reject|denied|declin|cancel/i, 'rejected'],
  [/insufficient|not enough/i, 'insufficient_balance'],
  [/budget|quota|limit|rate/i, 'quota_exceeded'],
  [/time ?out|timed out/i, 'timeout'],
  [/not (implemented|supported)|unsupported/i, 'unsupported'],
  [/unauthori[sz]ed|not enabled|permission/i, 'unauthorized'],
];

/** Maps a provider's rejection to a {@link WalletError}; `fallback` is used when nothing is recognisable. */
export function weblnError(e: unknown, method: string, fallback: WalletErrorCode): WalletError {
  if (e instanceof WalletError) return e;
  const name = e instanceof Error ? e.constructor.name : '';
  const message = errorMessage(e);
  const code = NAME_CODES[name] ?? MESSAGE_CODES.find(([re]) => re.test(message))?.[1] ?? fallback;
  return new WalletError(code, `${method}: ${message}`, { cause: e });
}

/**
 * Adapts a WebLN provider. `enable()` is called once, lazily, before the first call (and again after a refusal,
 * so a user who said no can still say yes later).
 * @example
 * import { requestProvider } from 'webln';
 * const wallet = weblnWallet(await requestProvider());
 * const { preimage } = await wallet.payInvoice(invoice);
 */
export function weblnWallet(provider: WebLNProvider): Wallet {
  let enabled: Promise<void> | null = null;
  async function ready(): Promise<void> {
    enabled ??= provider.enable().catch((e: unknown) => {
      enabled = null;
      throw weblnError(e, 'enable', 'rejected');
    });
    return enabled;
  }
  const wallet: Wallet = {
    async payInvoice(paymentRequest: string): Promise<PaymentResult> {
      await ready();
      let r: Awaited<ReturnType<WebLNProvider['sendPayment']>>;
      try {
        r = await provider.sendPayment(paymentRequest);
      } catch (e) {
        throw weblnError(e, 'sendPayment', 'payment_failed');
      }
      if (!r || typeof r.preimage !== 'string') throw new WalletError('internal', 'sendPayment: no preimage in reply');
      return { preimage: r.preimage.toLowerCase(), feeMsat: null };
    },
    async getInfo(): Promise<WalletInfo> {
      await ready();
      try {
        const i = await provider.getInfo();
        return {
          alias: i.node?.alias || null,
          pubkey: i.node?.pubkey || null,
          network: null,
          methods: [...(i.methods ?? [])],
        };
      } catch (e) {
        throw weblnError(e, 'getInfo', 'internal');
      }
    },
    async makeInvoice(a: { amountMsat: number; description?: string }) {
      await ready();
      try {
        // WebLN amounts are sats.
        const r = await provider.makeInvoice({ amount: Math.ceil(a.amountMsat / 1000), defaultMemo: a.description });
        return { paymentRequest: r.paymentRequest, paymentHash: decodeInvoice(r.paymentRequest).paymentHash };
      } catch (e) {
        throw weblnError(e, 'makeInvoice', 'internal');
      }
    },
  };
  const getBalance = provider.getBalance?.bind(provider);
  if (getBalance) {
    wallet.getBalance = async () => {
      await ready();
      try {
        return { balanceMsat: (await getBalance()).balance * 1000 };
      } catch (e) {
        throw weblnError(e, 'getBalance', 'internal');
      }
    };
  }
  const lookupInvoice = provider.lookupInvoice?.bind(provider);
  if (lookupInvoice) {
    wallet.lookupInvoice = async (paymentHash: string): Promise<InvoiceLookup> => {
      await ready();
      let r: Awaited<ReturnType<typeof lookupInvoice>>;
      try {
        r = await lookupInvoice({ paymentHash });
      } catch (e) {
        throw weblnError(e, 'lookupInvoice', 'internal');
      }
      let amountMsat: number | null = null;
      try {
        amountMsat = decodeInvoice(r.paymentRequest).amountMsat;
      } catch {
        amountMsat = null; // some providers return no invoice text: the amount is simply unknown
      }
      return {
        type: null,
        paymentRequest: r.paymentRequest ?? '',
        paymentHash: paymentHash.toLowerCase(),
        paid: r.paid === true,
        preimage:
          r.paid === true && typeof r.preimage === 'string' && r.preimage !== '' ? r.preimage.toLowerCase() : null,
        amountMsat,
      };
    };
  }
  const signMessage = provider.signMessage?.bind(provider);
  if (signMessage) {
    wallet.signMessage = async (message: string) => {
      await ready();
      try {
        const r = await signMessage(message);
        return { message: r.message, signature: r.signature };
      } catch (e) {
        throw weblnError(e, 'signMessage', 'internal');
      }
    };
  }
  // No `keysend` here on purpose: WebLN's keysend cannot take a preimage, so the payment hash is not known before
  // paying, and the money path (docs/design.md#pay: pending record keyed by hash BEFORE paying) needs it.
  return wallet;
}

/**
 * Adapts a bare `{ payInvoice }` object (our {@link Wallet} or any look-alike) so its errors become WalletErrors.
 * @example payInvoiceWallet({ payInvoice: async (pr) => ({ preimage: await myNode.pay(pr) }) })
 */
export function payInvoiceWallet(payer: PayInvoiceLike): Wallet {
  return {
    async payInvoice(paymentRequest: string): Promise<PaymentResult> {
      let r: Awaited<ReturnType<PayInvoiceLike['payInvoice']>>;
      try {
        r = await payer.payInvoice(paymentRequest);
      } catch (e) {
        throw weblnError(e, 'payInvoice', 'payment_failed');
      }
      if (!r || typeof r.preimage !== 'string') throw new WalletError('internal', 'payInvoice: no preimage in reply');
      return { preimage: r.preimage.toLowerCase(), feeMsat: typeof r.feeMsat === 'number' ? r.feeMsat : null };
    },
  };
}

/**
 * Turns anything wallet-like into something that pays: an object with `payInvoice` is wrapped for errors (its
 * other methods are not carried over), else one with `sendPayment` is treated as a WebLN provider.
 */
export function toWallet(w: WalletLike): Wallet {
  if (w && typeof (w as PayInvoiceLike).payInvoice === 'function') {
    // Only payInvoice is needed by payers of 402s; calling it as a method keeps a class instance's `this`.
    return payInvoiceWallet(w as PayInvoiceLike);
  }
  if (w && typeof (w as WebLNProvider).sendPayment === 'function') return weblnWallet(w as WebLNProvider);
  throw new TypeError('wallet must be a WebLN provider (sendPayment) or an object with payInvoice');
}
