// The embedded `dev` Lightning backend: real BOLT11 invoices (regtest by default) signed by
// a persisted dev node key. Nothing moves on a real network: invoices settle when the bundled dev wallet
// (dev-wallet.ts) pays them.
//
// An unpaid invoice costs no storage: its preimage is HMAC(node secret, payment_secret ‖ amount ‖ time ‖
// expiry), so the invoice itself carries everything needed to settle it, and recomputing the preimage proves
// this node issued it with exactly those terms. Only paid invoices are written to `dev-node-invoices.json`; a
// bounded in-memory list of recent open invoices answers `lookupInvoice` for them.
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import * as bolt11 from 'bolt11';
import { bytesToHex, hexToBytes, paymentHashOf } from '../../src/l402/index.ts';
import {
  type BackendInfo,
  type CreatedInvoice,
  InvoiceNotFoundError,
  type InvoiceStatus,
  type LightningBackend,
} from './backend.ts';
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

/** Open invoices remembered in memory for `lookupInvoice` (oldest forgotten first); never on disk. */
const RECENT_OPEN = 4096;

/** The invoice was not issued by this dev node (or its terms were altered). */
export class NotThisNodeError extends Error {
  constructor() {
    super('unknown invoice: the dev wallet only pays invoices of this dev node');
    this.name = 'NotThisNodeError';
  }
}

/** The dev node: a {@link LightningBackend} plus the settle hook its dev wallet uses. */
export interface DevBackend extends LightningBackend {
  readonly network: DevNetwork;
  readonly pubkey: string;
  /** A paid invoice's record by payment hash, or undefined. */
  find(paymentHashHex: string): DevInvoiceRecord | undefined;
  /**
   * Marks an unexpired invoice of this node settled (persisted before returning) and returns its preimage.
   * Throws {@link NotThisNodeError} for a foreign or altered invoice, and an Error with a reason when it cannot be paid.
   */
  settle(paymentRequest: string, amountMsat: number): string;
  /** Writes pending state to disk. */
  flush(): void;
}

/** Options for {@link openDevBackend}. */
interface DevBackendOptions {
  dataDir: string;
  /** Refused when 'mainnet'. Default 'regtest'. */
  network?: string;
  /** Unix milliseconds. */
  now?: () => number;
  alias?: string;
}

/** The terms an invoice's preimage is bound to. */
interface Terms {
  nonceHex: string;
  amountMsat: number;
  createdAt: number;
  expirySeconds: number;
}

function derivePreimage(key: NodeKey, t: Terms): string {
  const mac = createHmac('sha256', hexToBytes(key.privateKeyHex) ?? new Uint8Array());
  mac.update(`l402-dev-preimage\n${t.nonceHex}\n${t.amountMsat}\n${t.createdAt}\n${t.expirySeconds}`);
  return mac.digest('hex');
}

/** Reads the terms back from a payment request; null when it is not a well-formed invoice with them. */
function termsOf(paymentRequest: string): (Terms & { paymentHash: string; memo: string }) | null {
  let d: ReturnType<typeof bolt11.decode>;
  try {
    d = bolt11.decode(paymentRequest);
  } catch {
    return null;
  }
  const tags = d.tagsObject;
  const amount = Number(d.millisatoshis);
  if (!tags.payment_secret || !tags.payment_hash || d.timestamp === undefined || !Number.isSafeInteger(amount))
    return null;
  return {
    nonceHex: tags.payment_secret,
    amountMsat: amount,
    createdAt: d.timestamp,
    expirySeconds: tags.expire_time ?? 3600,
    paymentHash: tags.payment_hash,
    memo: tags.description ?? '',
  };
}

/**
 * Opens (or creates) the dev node in `dataDir`. Throws {@link DevMainnetRefusedError} for mainnet.
 * @example const dev = openDevBackend({ dataDir: '.data/server' }); await dev.createInvoice(10_000, 'x', 600);
 */
export function openDevBackend(o: DevBackendOptions): DevBackend {
  const network = assertDevNetwork(o.network ?? 'regtest');
  const now = o.now ?? Date.now;
  const nowS = (): number => Math.floor(now() / 1000);
  const key: NodeKey = loadOrCreateNodeKey(o.dataDir, 'dev-node-key.hex');
  const state: JsonState<DevNodeFile> = openJsonState(
    join(o.dataDir, 'dev-node-invoices.json'),
    () => ({ invoices: [] }),
    isDevNodeFile,
  );
  // Older versions stored every open invoice too: keep only the paid ones (rewritten at the next payment).
  state.value.invoices = state.value.invoices.filter((inv) => inv.state === 'settled');
  const paid = new Map<string, DevInvoiceRecord>();
  for (const inv of state.value.invoices) paid.set(inv.paymentHash, inv);
  const recentOpen = new Map<string, { expiresAt: number }>();

  return {
    network,
    pubkey: key.pubkeyHex,
    async createInvoice(amountMsat: number, memo: string, expirySeconds: number): Promise<CreatedInvoice> {
      if (!Number.isSafeInteger(amountMsat) || amountMsat <= 0)
        throw new Error('amountMsat must be a positive integer');
      const terms: Terms = {
        nonceHex: bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
        amountMsat,
        createdAt: nowS(),
        expirySeconds,
      };
      const paymentHash = paymentHashOf(derivePreimage(key, terms));
      const paymentRequest = signDevInvoice({
        key,
        network,
        amountMsat,
        memo,
        expirySeconds,
        paymentHashHex: paymentHash,
        timestampS: terms.createdAt,
        paymentSecretHex: terms.nonceHex,
      });
      recentOpen.set(paymentHash, { expiresAt: terms.createdAt + expirySeconds });
      if (recentOpen.size > RECENT_OPEN) recentOpen.delete(recentOpen.keys().next().value as string);
      return { paymentRequest, paymentHash };
    },
    async lookupInvoice(paymentHashHex: string): Promise<InvoiceStatus> {
      const h = paymentHashHex.toLowerCase();
      const rec = paid.get(h);
      if (rec) return { state: 'settled', preimage: rec.preimage, amountPaidMsat: rec.amountPaidMsat };
      const open = recentOpen.get(h);
      if (!open) throw new InvoiceNotFoundError(paymentHashHex);
      return { state: open.expiresAt <= nowS() ? 'canceled' : 'open', preimage: null, amountPaidMsat: 0 };
    },
    async getInfo(): Promise<BackendInfo> {
      return { alias: o.alias ?? 'l402-autopilot-dev-node', pubkey: key.pubkeyHex, network };
    },
    find: (h) => paid.get(h.toLowerCase()),
    settle(paymentRequest: string, amountMsat: number): string {
      const t = termsOf(paymentRequest);
      if (!t) throw new NotThisNodeError();
      const preimage = derivePreimage(key, t);
      if (paymentHashOf(preimage) !== t.paymentHash) throw new NotThisNodeError();
      if (paid.has(t.paymentHash)) throw new Error('invoice already paid');
      if (t.createdAt + t.expirySeconds <= nowS()) throw new Error('invoice expired');
      if (amountMsat < t.amountMsat)
        throw new Error(`amount ${amountMsat} msat is below the invoice amount ${t.amountMsat} msat`);
      const rec: DevInvoiceRecord = {
        paymentHash: t.paymentHash,
        preimage,
        paymentRequest,
        amountMsat: t.amountMsat,
        memo: t.memo,
        createdAt: t.createdAt,
        expiresAt: t.createdAt + t.expirySeconds,
        state: 'settled',
        settledAt: nowS(),
        amountPaidMsat: amountMsat,
      };
      paid.set(t.paymentHash, rec);
      recentOpen.delete(t.paymentHash);
      state.value.invoices.push(rec);
      state.saveNow();
      return preimage;
    },
    flush: () => state.saveNow(),
  };
}
