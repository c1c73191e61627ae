// The Wallet interface over Nostr Wallet Connect (NIP-47, SPEC §1 "NWC") using @getalby/sdk's NWCClient.
// Works wherever a global WebSocket exists: MV3 service workers, browsers, Node 22+.
import {
  Nip47NetworkError,
  Nip47PublishError,
  Nip47PublishTimeoutError,
  Nip47TimeoutError,
  Nip47WalletError,
  NWCClient,
} from '@getalby/sdk/nwc';
import { parseNwcUri } from './nwc-uri.ts';
import type { PaymentLookup, PaymentResult, Wallet, WalletErrorCode, WalletInfo } from './wallet.ts';
import { WalletError } from './wallet.ts';

export { type NwcConnection, parseNwcUri } from './nwc-uri.ts';

/** The part of `NWCClient` this adapter uses: lets tests pass a fake without a relay. */
export interface NwcClientLike {
  payInvoice(request: { invoice: string }): Promise<{ preimage: string; fees_paid?: number }>;
  lookupInvoice(request: { payment_hash: string }): Promise<{ state?: string; preimage?: string; fees_paid?: number }>;
  getInfo(): Promise<{ alias?: string; pubkey?: string; network?: string; methods?: readonly string[] }>;
  getBalance(): Promise<{ balance: number }>;
  makeInvoice(request: { amount: number; description?: string }): Promise<{ invoice: string; payment_hash: string }>;
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
  const message = e instanceof Error ? e.message : String(e);
  // Order matters: PublishTimeoutError is both a TimeoutError and (by name) a publish problem — unknown wins.
  if (e instanceof Nip47TimeoutError || e instanceof Nip47PublishTimeoutError) {
    return new WalletError('timeout', `${method}: no reply from the wallet in time (outcome unknown)`, { cause: e });
  }
  if (e instanceof Nip47NetworkError || e instanceof Nip47PublishError) {
    return new WalletError('unreachable', `${method}: cannot reach the wallet's relay: ${message}`, { cause: e });
  }
  if (e instanceof Nip47WalletError) {
    const code = NIP47_CODES[e.code] ?? (method === 'pay_invoice' ? 'payment_failed' : 'internal');
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
      return { alias: i.alias || null, pubkey: i.pubkey || null, network: i.network || null, methods: [...(i.methods ?? [])] };
    },
    async getBalance() {
      const b = await call('get_balance', () => client.getBalance());
      return { balanceMsat: b.balance };
    },
    async makeInvoice(a: { amountMsat: number; description?: string }) {
      const tx = await call('make_invoice', () =>
        client.makeInvoice({ amount: a.amountMsat, ...(a.description !== undefined ? { description: a.description } : {}) }),
      );
      return { paymentRequest: tx.invoice, paymentHash: tx.payment_hash };
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
