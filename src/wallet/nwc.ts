// The Wallet interface over Nostr Wallet Connect (NIP-47, docs/design.md#nwc) using @getalby/sdk's NWCClient.
// Works wherever a global WebSocket exists: MV3 service workers, browsers, Node 22+.
import {
  Nip47NetworkError,
  Nip47PublishError,
  Nip47PublishTimeoutError,
  Nip47TimeoutError,
  Nip47WalletError,
  NWCClient,
} from '@getalby/sdk/nwc';
import { bytesToHex } from '../l402/index.ts';
import { parseNwcUri } from './nwc-uri.ts';
import type {
  InvoiceLookup,
  KeysendRequest,
  PaymentLookup,
  PaymentResult,
  Wallet,
  WalletErrorCode,
  WalletInfo,
} from './wallet.ts';
import { WalletError } from './wallet.ts';
import { errorMessage } from '../util/error-message.ts';

export { type NwcConnection, parseNwcUri } from './nwc-uri.ts';

/** The part of `NWCClient` this adapter uses: lets tests pass a fake without a relay. */
export interface NwcClientLike {
  payInvoice(request: { invoice: string }): Promise<{ preimage: string; fees_paid?: number }>;
  lookupInvoice(request: { payment_hash: string }): Promise<{
    state?: string;
    preimage?: string;
    fees_paid?: number;
    type?: string;
    invoice?: string;
    payment_hash?: string;
    amount?: number;
    settled_at?: number;
  }>;
  getInfo(): Promise<{ alias?: string; pubkey?: string; network?: string; methods?: readonly string[] }>;
  getBalance(): Promise<{ balance: number }>;
  makeInvoice(request: { amount: number; description?: string }): Promise<{ invoice: string; payment_hash: string }>;
  /** Optional in fakes; NWCClient has both. */
  payKeysend?(request: {
    amount: number;
    pubkey: string;
    preimage?: string;
    tlv_records?: { type: number; value: string }[];
  }): Promise<{ preimage: string; fees_paid?: number }>;
  signMessage?(request: { message: string }): Promise<{ message: string; signature: string }>;
  close(): void;
}

export interface NwcWalletOptions {
  /**
   * How long to wait for the wallet's reply, per call (default 60 s, the SDK's own reply timeout). When it passes,
   * the call rejects with `timeout`: for a payment that means the outcome is UNKNOWN — use lookupPayment.
   */
  timeoutMs?: number;
}

const NIP47_CODES: Record<string, WalletErrorCode> = {
  INSUFFICIENT_BALANCE: 'insufficient_balance',
  QUOTA_EXCEEDED: 'quota_exceeded',
  // The contract has no rate_limited code: a rate limit is a quota the wallet set, so it maps there.
  RATE_LIMITED: 'quota_exceeded',
  RESTRICTED: 'unauthorized',
  UNAUTHORIZED: 'unauthorized',
  NOT_IMPLEMENTED: 'unsupported',
  PAYMENT_FAILED: 'payment_failed',
  UNSUPPORTED_ENCRYPTION: 'unsupported',
  INTERNAL: 'internal',
  OTHER: 'internal',
};

/**
 * Maps whatever the NWC client threw to a {@link WalletError}. The split that matters for money: a reply or
 * publish timeout is `timeout` (the wallet may have paid), a relay we could not reach or publish to is
 * `unreachable` (the request never left), and a wallet error reply maps by its NIP-47 code.
 */
export function toWalletError(e: unknown, method: string): WalletError {
  if (e instanceof WalletError) return e;
  const message = errorMessage(e);
  // Order matters: PublishTimeoutError is both a TimeoutError and (by name) a publish problem — unknown wins.
  if (e instanceof Nip47TimeoutError || e instanceof Nip47PublishTimeoutError) {
    return new WalletError('timeout', `${method}: no reply from the wallet in time (outcome unknown)`, { cause: e });
  }
  if (e instanceof Nip47NetworkError || e instanceof Nip47PublishError) {
    return new WalletError('unreachable', `${method}: cannot reach the wallet's relay: ${message}`, { cause: e });
  }
  if (e instanceof Nip47WalletError) {
    // A code we do not know says nothing about whether a payment went through: `internal` (the payer looks it up).
    const code = NIP47_CODES[e.code] ?? 'internal';
    return new WalletError(code, `${method}: ${e.code}: ${message}`, { cause: e });
  }
  return new WalletError('internal', `${method}: ${message}`, { cause: e });
}

function withTimeout<T>(p: Promise<T>, ms: number, method: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WalletError('timeout', `${method}: no reply from the wallet in ${ms} ms (outcome unknown)`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wraps an NWC client (real or fake) as a {@link Wallet}.
 * @example const wallet = nwcWalletFromClient(new NWCClient({ nostrWalletConnectUrl: uri }));
 */
export function nwcWalletFromClient(client: NwcClientLike, options: NwcWalletOptions = {}): Wallet {
  const timeoutMs = options.timeoutMs ?? 60_000;
  async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(run(), timeoutMs, method);
    } catch (e) {
      throw toWalletError(e, method);
    }
  }
  // The methods get_info lists (NIP-47 names), asked once; null when the wallet did not say.
  let listed: Promise<string[] | null> | null = null;
  const methodsListed = (): Promise<string[] | null> => {
    listed ??= call('get_info', () => client.getInfo()).then(
      (i) => (i.methods && i.methods.length > 0 ? [...i.methods] : null),
      () => {
        listed = null; // try again next time; meanwhile let the wallet itself answer
        return null;
      },
    );
    return listed;
  };
  const listedOrUnknown = async (method: string): Promise<boolean> => {
    const methods = await methodsListed();
    return methods === null || methods.includes(method);
  };
  /** Throws `unsupported` when get_info does not list `method` (a wallet that lists nothing is asked anyway). */
  async function requireMethod(method: string): Promise<void> {
    if (!(await listedOrUnknown(method)))
      throw new WalletError('unsupported', `${method}: not supported by this wallet`);
  }
  const NIP47_NAMES = { lookupInvoice: 'lookup_invoice', keysend: 'pay_keysend', signMessage: 'sign_message' } as const;
  return {
    async payInvoice(paymentRequest: string): Promise<PaymentResult> {
      // NIP-47 pay_invoice has no fee limit parameter: the wallet service's own budget applies.
      const r = await call('pay_invoice', () => client.payInvoice({ invoice: paymentRequest }));
      if (typeof r.preimage !== 'string' || r.preimage === '') {
        throw new WalletError('internal', 'pay_invoice: the wallet replied without a preimage');
      }
      return { preimage: r.preimage.toLowerCase(), feeMsat: typeof r.fees_paid === 'number' ? r.fees_paid : null };
    },
    async lookupPayment(paymentHash: string): Promise<PaymentLookup> {
      let tx: Awaited<ReturnType<NwcClientLike['lookupInvoice']>>;
      try {
        tx = await call('lookup_invoice', () => client.lookupInvoice({ payment_hash: paymentHash }));
      } catch (e) {
        // NOT_FOUND (or any lookup failure) does not prove the payment failed: a request may still be in flight.
        if (e instanceof WalletError && e.code !== 'timeout' && e.code !== 'unreachable') return { state: 'unknown' };
        throw e;
      }
      switch (tx.state) {
        case 'settled':
          return tx.preimage
            ? { state: 'succeeded', preimage: tx.preimage.toLowerCase(), feeMsat: tx.fees_paid ?? null }
            : { state: 'unknown' };
        case 'pending':
        case 'accepted':
          return { state: 'pending' };
        case 'failed':
          return { state: 'failed', reason: 'the wallet reports the payment failed' };
        default:
          return { state: 'unknown' };
      }
    },
    async getInfo(): Promise<WalletInfo> {
      const i = await call('get_info', () => client.getInfo());
      return {
        alias: i.alias || null,
        pubkey: i.pubkey || null,
        network: i.network || null,
        methods: [...(i.methods ?? [])],
      };
    },
    async getBalance() {
      const b = await call('get_balance', () => client.getBalance());
      return { balanceMsat: b.balance };
    },
    async makeInvoice(a: { amountMsat: number; description?: string }) {
      const tx = await call('make_invoice', () =>
        client.makeInvoice({
          amount: a.amountMsat,
          ...(a.description !== undefined ? { description: a.description } : {}),
        }),
      );
      return { paymentRequest: tx.invoice, paymentHash: tx.payment_hash };
    },
    async lookupInvoice(paymentHash: string): Promise<InvoiceLookup> {
      await requireMethod('lookup_invoice');
      const tx = await call('lookup_invoice', () => client.lookupInvoice({ payment_hash: paymentHash }));
      const paid =
        tx.state === 'settled' || (tx.state === undefined && typeof tx.settled_at === 'number' && tx.settled_at > 0);
      return {
        type: tx.type === 'incoming' || tx.type === 'outgoing' ? tx.type : null,
        paymentRequest: tx.invoice ?? '',
        paymentHash: (tx.payment_hash || paymentHash).toLowerCase(),
        paid,
        preimage: paid && tx.preimage ? tx.preimage.toLowerCase() : null,
        amountMsat: typeof tx.amount === 'number' ? tx.amount : null,
      };
    },
    async keysend(r: KeysendRequest): Promise<PaymentResult> {
      if (!client.payKeysend) throw new WalletError('unsupported', 'pay_keysend: not supported by this wallet');
      await requireMethod('pay_keysend');
      const payKeysend = client.payKeysend.bind(client);
      // WebLN custom record values are text; NIP-47 tlv_records carry hex.
      const tlv = Object.entries(r.customRecords ?? {}).map(([type, value]) => ({
        type: Number(type),
        value: bytesToHex(new TextEncoder().encode(value)),
      }));
      const res = await call('pay_keysend', () =>
        payKeysend({
          amount: r.amountMsat,
          pubkey: r.destination,
          preimage: r.preimage,
          ...(tlv.length ? { tlv_records: tlv } : {}),
        }),
      );
      // A success reply without a preimage still means the payment (with OUR preimage) went through.
      const preimage =
        typeof res.preimage === 'string' && res.preimage !== '' ? res.preimage.toLowerCase() : r.preimage;
      return { preimage, feeMsat: typeof res.fees_paid === 'number' ? res.fees_paid : null };
    },
    async signMessage(message: string) {
      if (!client.signMessage) throw new WalletError('unsupported', 'sign_message: not supported by this wallet');
      await requireMethod('sign_message');
      const signMessage = client.signMessage.bind(client);
      const r = await call('sign_message', () => signMessage({ message }));
      return { message: r.message, signature: r.signature };
    },
    async supports(method) {
      if (method === 'keysend' && !client.payKeysend) return false;
      if (method === 'signMessage' && !client.signMessage) return false;
      return listedOrUnknown(NIP47_NAMES[method]);
    },
    close() {
      client.close();
    },
  };
}

/**
 * A {@link Wallet} backed by an NWC connection URI. Throws at once on a malformed URI (see {@link parseNwcUri});
 * relays are contacted lazily on the first call.
 * @example
 * const wallet = createNwcWallet(process.env.NWC_URI!, { timeoutMs: 30_000 });
 * const { preimage } = await wallet.payInvoice('lnbcrt10u1p…');
 * wallet.close?.();
 */
export function createNwcWallet(uri: string, options: NwcWalletOptions = {}): Wallet {
  const c = parseNwcUri(uri);
  const client = new NWCClient({ relayUrls: c.relayUrls, walletPubkey: c.walletPubkey, secret: c.secret });
  return nwcWalletFromClient(client, options);
}
