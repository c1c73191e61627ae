// The embedded `dev` Lightning backend: real BOLT11 invoices (regtest by default) signed by
// a persisted dev node key, with their preimages kept in memory and in the data dir. Nothing moves on
// a real network: invoices settle when the bundled dev wallet (dev-wallet.ts) pays them.
import { join } from 'node:path';
import { bytesToHex, paymentHashOf } from '../../src/l402/index.ts';
import { type BackendInfo, type CreatedInvoice, InvoiceNotFoundError, type InvoiceStatus, type LightningBackend } from './backend.ts';
import { assertDevNetwork, type DevNetwork, loadOrCreateNodeKey, type NodeKey, signDevInvoice } from './dev-invoice.ts';
import { type JsonState, openJsonState } from './json-state.ts';

/** One invoice the dev node issued. */
export interface DevInvoiceRecord {
  paymentHash: string;
  preimage: string;
  paymentRequest: string;
  amountMsat: number;
  memo: string;
  createdAt: number;
  expiresAt: number;
  state: 'open' | 'settled' | 'canceled';
  settledAt: number | null;
  amountPaidMsat: number;
}

interface DevNodeFile {
  invoices: DevInvoiceRecord[];
}

const isDevNodeFile = (v: unknown): v is DevNodeFile =>
  typeof v === 'object' && v !== null && Array.isArray((v as { invoices?: unknown }).invoices);

/** Open invoices this long past expiry are forgotten, so the 402 path cannot grow the file forever. */
const FORGET_AFTER_S = 3600;

/** The dev node: a {@link LightningBackend} plus the settle hook its dev wallet uses. */
export interface DevBackend extends LightningBackend {
  readonly network: DevNetwork;
  readonly pubkey: string;
  /** The invoice record by payment hash, or undefined. */
  find(paymentHashHex: string): DevInvoiceRecord | undefined;
  /**
   * Marks an open, unexpired invoice settled (persisted before returning) and returns its preimage.
   * Throws with a reason when it cannot be paid.
   */
  settle(paymentHashHex: string, amountMsat: number): string;
  /** Writes pending state to disk. */
  flush(): void;
}

/** Options for {@link openDevBackend}. */
export interface DevBackendOptions {
  dataDir: string;
  /** Refused when 'mainnet'. Default 'regtest'. */
  network?: string;
  /** Unix milliseconds. */
  now?: () => number;
  alias?: string;
}

/**
 * Opens (or creates) the dev node in `dataDir`. Throws {@link DevMainnetRefusedError} for mainnet.
 * @example const dev = openDevBackend({ dataDir: '.data/server' }); await dev.createInvoice(10_000, 'x', 600);
 */
export function openDevBackend(o: DevBackendOptions): DevBackend {
  const network = assertDevNetwork(o.network ?? 'regtest');
  const now = o.now ?? Date.now;
  const key: NodeKey = loadOrCreateNodeKey(o.dataDir, 'dev-node-key.hex');
  const state: JsonState<DevNodeFile> = openJsonState(join(o.dataDir, 'dev-node-invoices.json'), () => ({ invoices: [] }), isDevNodeFile);
  const byHash = new Map<string, DevInvoiceRecord>();
  for (const inv of state.value.invoices) byHash.set(inv.paymentHash, inv);
  let sincePrune = 0;

  const prune = (): void => {
    const cutoff = Math.floor(now() / 1000) - FORGET_AFTER_S;
    for (const [h, inv] of byHash) if (inv.state === 'open' && inv.expiresAt < cutoff) byHash.delete(h);
    state.value.invoices = [...byHash.values()];
  };

  return {
    network,
    pubkey: key.pubkeyHex,
    async createInvoice(amountMsat: number, memo: string, expirySeconds: number): Promise<CreatedInvoice> {
      if (!Number.isSafeInteger(amountMsat) || amountMsat <= 0) throw new Error('amountMsat must be a positive integer');
      const preimage = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
      const paymentHash = paymentHashOf(preimage);
      const createdAt = Math.floor(now() / 1000);
      const paymentRequest = signDevInvoice({ key, network, amountMsat, memo, expirySeconds, paymentHashHex: paymentHash, timestampS: createdAt });
      const rec: DevInvoiceRecord = {
        paymentHash,
        preimage,
        paymentRequest,
        amountMsat,
        memo,
        createdAt,
        expiresAt: createdAt + expirySeconds,
        state: 'open',
        settledAt: null,
        amountPaidMsat: 0,
      };
      byHash.set(paymentHash, rec);
      state.value.invoices.push(rec);
      if (++sincePrune >= 1000) {
        sincePrune = 0;
        prune();
      }
      state.save();
      return { paymentRequest, paymentHash };
    },
    async lookupInvoice(paymentHashHex: string): Promise<InvoiceStatus> {
      const rec = byHash.get(paymentHashHex.toLowerCase());
      if (!rec) throw new InvoiceNotFoundError(paymentHashHex);
      const expired = rec.state === 'open' && rec.expiresAt <= Math.floor(now() / 1000);
      return {
        state: expired ? 'canceled' : rec.state,
        preimage: rec.state === 'settled' ? rec.preimage : null,
        amountPaidMsat: rec.amountPaidMsat,
      };
    },
    async getInfo(): Promise<BackendInfo> {
      return { alias: o.alias ?? 'l402-autopilot-dev-node', pubkey: key.pubkeyHex, network };
    },
    find: (h) => byHash.get(h.toLowerCase()),
    settle(paymentHashHex: string, amountMsat: number): string {
      const rec = byHash.get(paymentHashHex.toLowerCase());
      if (!rec) throw new Error('unknown invoice: the dev wallet only pays invoices of this dev node');
      if (rec.state === 'settled') throw new Error('invoice already paid');
      if (rec.state === 'canceled' || rec.expiresAt <= Math.floor(now() / 1000)) throw new Error('invoice expired');
      if (amountMsat < rec.amountMsat) throw new Error(`amount ${amountMsat} msat is below the invoice amount ${rec.amountMsat} msat`);
      rec.state = 'settled';
      rec.settledAt = Math.floor(now() / 1000);
      rec.amountPaidMsat = amountMsat;
      state.saveNow();
      return rec.preimage;
    },
    flush: () => state.saveNow(),
  };
}
