// The `lnd` backend: invoices on a real lnd ≥ 0.21 over REST (`/v1/invoices`,
// `/v2/invoices/lookup`) through LndRest. Unreachable, slow or not-ready nodes become
// BackendUnavailableError (→ 503 + Retry-After); the app adds its own timeout on top.
import { readFileSync } from 'node:fs';
import {
  BackendUnavailableError,
  type BackendInfo,
  InvoiceNotFoundError,
  type InvoiceStatus,
  type LightningBackend,
} from './backend.ts';
import { LndError, LndRest } from './lnd-rest.ts';
import { errorMessage } from '../../src/util/error-message.ts';

/** Maps LndRest failures to the backend's error vocabulary. */
function mapError(e: unknown, paymentHash?: string): Error {
  if (e instanceof LndError) {
    if (e.code === 'http' && e.status === 404 && paymentHash) return new InvoiceNotFoundError(paymentHash);
    // 503 from lnd = still starting or wallet locked: temporary too.
    return new BackendUnavailableError(`lnd: ${e.message}`, 5, { cause: e });
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * A backend over an existing {@link LndRest} client.
 * @example lndBackend(new LndRest({ url, macaroonHex, tlsCertPem, timeoutMs: 5000 }))
 */
export function lndBackend(rest: LndRest): LightningBackend {
  return {
    async createInvoice(amountMsat, memo, expirySeconds) {
      try {
        const r = await rest.addInvoice({ valueMsat: amountMsat, memo, expirySeconds });
        return { paymentRequest: r.paymentRequest, paymentHash: r.paymentHash };
      } catch (e) {
        throw mapError(e);
      }
    },
    async lookupInvoice(paymentHashHex): Promise<InvoiceStatus> {
      try {
        const inv = await rest.lookupInvoice(paymentHashHex);
        const state = inv.state === 'SETTLED' ? 'settled' : inv.state === 'CANCELED' ? 'canceled' : 'open';
        return { state, preimage: state === 'settled' ? inv.preimageHex : null, amountPaidMsat: inv.amountPaidMsat };
      } catch (e) {
        throw mapError(e, paymentHashHex);
      }
    },
    async getInfo(): Promise<BackendInfo> {
      try {
        const i = await rest.getInfo();
        return { alias: i.alias, pubkey: i.identityPubkey, network: i.network };
      } catch (e) {
        throw mapError(e);
      }
    },
  };
}

/** Builds the lnd backend from config paths (cert PEM, binary macaroon file → hex header). */
export function lndBackendFromFiles(o: {
  restUrl: string;
  tlsCertPath: string;
  macaroonPath: string;
  timeoutMs: number;
}): LightningBackend {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${what} at ${path}: ${errorMessage(e)}`);
    }
  };
  const tlsCertPem = read(o.tlsCertPath, 'LND_TLS_CERT_PATH').toString('utf8');
  const macaroonHex = read(o.macaroonPath, 'LND_MACAROON_PATH').toString('hex');
  return lndBackend(new LndRest({ url: o.restUrl, tlsCertPem, macaroonHex, timeoutMs: o.timeoutMs }));
}
