// The one small interface every Lightning backend implements (docs/design.md#the-server). The gate only
// creates invoices; lookups serve tooling and tests. Amounts are msat, hashes lowercase hex.
import { errorMessage } from '../../src/util/error-message.ts';

/** A freshly created invoice. */
export interface CreatedInvoice {
  paymentRequest: string;
  /** 32-byte hex. */
  paymentHash: string;
}

/** What the node knows about an invoice it issued. */
export interface InvoiceStatus {
  state: 'open' | 'settled' | 'canceled';
  /** Hex preimage once settled (lnd also reveals it while open for its own invoices; callers must not rely on that). */
  preimage: string | null;
  amountPaidMsat: number;
}

/** Who the node is. */
export interface BackendInfo {
  alias: string;
  pubkey: string;
  /** 'regtest', 'testnet', 'signet', 'simnet' or 'mainnet'. */
  network: string;
}

/**
 * A Lightning node that can issue invoices. Implementations throw {@link BackendUnavailableError}
 * when the node cannot be reached or answers too slowly, so the server can reply 503.
 */
export interface LightningBackend {
  createInvoice(amountMsat: number, memo: string, expirySeconds: number): Promise<CreatedInvoice>;
  lookupInvoice(paymentHashHex: string): Promise<InvoiceStatus>;
  getInfo(): Promise<BackendInfo>;
}

/** The node is down, slow or not ready: a temporary condition (HTTP 503 + Retry-After). */
export class BackendUnavailableError extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The invoice is not known to the node. */
export class InvoiceNotFoundError extends Error {
  constructor(paymentHashHex: string) {
    super(`no invoice with payment hash ${paymentHashHex}`);
    this.name = 'InvoiceNotFoundError';
  }
}

/**
 * Wraps a backend so no call outlives `timeoutMs` and every unexpected failure becomes a
 * {@link BackendUnavailableError}: a hung node must never hang a request.
 * {@link InvoiceNotFoundError} passes through unchanged.
 */
export function withTimeouts(backend: LightningBackend, timeoutMs: number, retryAfterSeconds = 5): LightningBackend {
  const guard = <T>(what: string, run: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new BackendUnavailableError(
              `lightning backend: ${what} took longer than ${timeoutMs} ms`,
              retryAfterSeconds,
            ),
          ),
        timeoutMs,
      );
      let p: Promise<T>;
      try {
        p = run();
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          if (e instanceof BackendUnavailableError || e instanceof InvoiceNotFoundError) reject(e);
          else
            reject(
              new BackendUnavailableError(`lightning backend: ${what} failed: ${errorMessage(e)}`, retryAfterSeconds, {
                cause: e,
              }),
            );
        },
      );
    });
  return {
    createInvoice: (amountMsat, memo, expirySeconds) =>
      guard('createInvoice', () => backend.createInvoice(amountMsat, memo, expirySeconds)),
    lookupInvoice: (hash) => guard('lookupInvoice', () => backend.lookupInvoice(hash)),
    getInfo: () => guard('getInfo', () => backend.getInfo()),
  };
}
