// window.webln offered by the extension (docs/design.md#webln, #provide-webln). Every method only ASKS the
// background (which applies the rules and prompts); errors are plain Errors with a WebLN-style message
// and the extension's `code`.
import { ChannelError } from '../messaging/channel.ts';
import { call } from './port.ts';

type Args<T> = T extends string | number ? T : never;

// joule-labs `webln` error class names, set as `name` so clients that check it recognise the error.
const NAMES: Record<string, string> = {
  rejected_by_user: 'RejectionError',
  unsupported: 'UnsupportedMethodError',
  wallet_unavailable: 'ConnectionError',
  payment_failed: 'RoutingError',
  insufficient_balance: 'RoutingError',
  invalid_request: 'InvalidDataError',
  invalid_challenge: 'InvalidDataError',
};

const named = (e: Error & { code: string }) => Object.assign(e, { name: NAMES[e.code] ?? 'Error' });

const unsupported = (method: string) => () =>
  Promise.reject(named(new ChannelError('unsupported', `${method} is not supported by this wallet`)));

/** Messages in the words WebLN clients expect (joule-labs names where they fit). */
function weblnError(e: unknown): Error {
  const { code = 'internal', message = String(e) } = e as { code?: string; message?: string };
  const prefix: Record<string, string> = {
    rejected_by_user: 'User rejected',
    not_enabled: 'Provider must be enabled before use',
  };
  return named(
    new ChannelError(code, prefix[code] && !message.startsWith(prefix[code]) ? `${prefix[code]}: ${message}` : message),
  );
}

const wrap =
  <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
  (...a: A): Promise<R> =>
    f(...a).catch((e: unknown) => Promise.reject(weblnError(e)));

export function createProvider() {
  return {
    isExtensionProvider: true,
    l402Autopilot: true,
    enable: wrap(() => call('weblnEnable', {}).then(() => undefined)),
    isEnabled: wrap(() => call('weblnIsEnabled', {}).then((r) => r.enabled)),
    getInfo: wrap(() => call('weblnGetInfo', {})),
    sendPayment: wrap((paymentRequest: string) => call('weblnSendPayment', { paymentRequest })),
    keysend: wrap((a: { destination: string; amount: string | number; customRecords?: Record<string, string> }) =>
      call(
        'weblnKeysend',
        a.customRecords
          ? { destination: a.destination, amount: a.amount, customRecords: a.customRecords }
          : { destination: a.destination, amount: a.amount },
      ),
    ),
    makeInvoice: wrap(
      (
        a: Args<string | number> | { amount?: string | number; defaultAmount?: string | number; defaultMemo?: string },
      ) => {
        const o = typeof a === 'object' ? a : { amount: a };
        const amount = o.amount ?? ('defaultAmount' in o ? o.defaultAmount : undefined);
        return call('weblnMakeInvoice', {
          ...(amount !== undefined ? { amount } : {}),
          ...(o.defaultMemo !== undefined ? { defaultMemo: o.defaultMemo } : {}),
        });
      },
    ),
    getBalance: wrap(() => call('weblnGetBalance', {})),
    lookupInvoice: wrap((a: { paymentHash?: string; paymentRequest?: string }) =>
      call('weblnLookupInvoice', {
        ...(a.paymentHash ? { paymentHash: a.paymentHash } : {}),
        ...(a.paymentRequest ? { paymentRequest: a.paymentRequest } : {}),
      }),
    ),
    signMessage: wrap((message: string) => call('weblnSignMessage', { message })),
    verifyMessage: unsupported('verifyMessage'),
    request: unsupported('request'),
    on() {},
    off() {},
  };
}
