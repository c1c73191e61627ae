// The bundled dev wallet: DEV MONEY only. A funded balance (persisted) that can pay the dev
// node's invoices, exposed as the LightningNode the NWC wallet service sits in front of, so the
// extension pays the dev server over a real NWC connection with no Lightning network at all.
import { join } from 'node:path';
import { bytesToHex, decodeInvoice, isL402Error, paymentHashOf } from '../../src/l402/index.ts';
import {
  type LightningNode,
  LightningNodeError,
  type LightningTransaction,
  type NodeInfo,
  type PaidInvoice,
} from '../nostr/lightning-node.ts';
import { type DevBackend, NotThisNodeError } from './dev-backend.ts';
import { loadOrCreateNodeKey, signDevInvoice } from './dev-invoice.ts';
import { openJsonState } from './json-state.ts';
import { errorMessage } from '../../src/util/error-message.ts';

interface WalletFile {
  balanceMsat: number;
  transactions: LightningTransaction[];
}

const isWalletFile = (v: unknown): v is WalletFile =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as WalletFile).balanceMsat === 'number' &&
  Array.isArray((v as WalletFile).transactions);

/** The dev wallet: a {@link LightningNode} plus a direct `pay` for tests and scripts. */
export interface DevWallet extends LightningNode {
  /** Pays a dev-node invoice and returns the preimage (hex). */
  pay(invoice: string): Promise<string>;
}

/** Options for {@link openDevWallet}. */
interface DevWalletOptions {
  dataDir: string;
  /** The dev node whose invoices this wallet can pay. */
  node: DevBackend;
  /** Balance on first creation, in sat (default 1,000,000). */
  initialBalanceSat?: number;
  now?: () => number;
}

/**
 * Opens (or creates and funds) the dev wallet in `dataDir`.
 * @example const wallet = openDevWallet({ dataDir, node: dev }); const preimage = await wallet.pay(bolt11);
 */
export function openDevWallet(o: DevWalletOptions): DevWallet {
  const now = o.now ?? Date.now;
  const key = loadOrCreateNodeKey(o.dataDir, 'dev-wallet-key.hex');
  const state = openJsonState<WalletFile>(
    join(o.dataDir, 'dev-wallet.json'),
    () => ({ balanceMsat: (o.initialBalanceSat ?? 1_000_000) * 1000, transactions: [] }),
    isWalletFile,
  );
  const w = state.value;
  const nowS = (): number => Math.floor(now() / 1000);

  const wallet: DevWallet = {
    async getInfo(): Promise<NodeInfo> {
      return {
        alias: 'l402-autopilot-dev-wallet (DEV MONEY)',
        pubkey: key.pubkeyHex,
        network: o.node.network,
        blockHeight: 0,
        blockHash: '0'.repeat(64),
      };
    },
    async getBalance() {
      return { balanceMsat: w.balanceMsat };
    },
    async payInvoice(a): Promise<PaidInvoice> {
      let inv: ReturnType<typeof decodeInvoice>;
      try {
        inv = decodeInvoice(a.invoice);
      } catch (e) {
        throw new LightningNodeError(
          'PAYMENT_FAILED',
          `cannot decode invoice: ${isL402Error(e) ? e.message : String(e)}`,
        );
      }
      const amountMsat = inv.amountMsat ?? a.amountMsat;
      if (!amountMsat) throw new LightningNodeError('PAYMENT_FAILED', 'zero-amount invoice and no amount given');
      if (amountMsat > w.balanceMsat) {
        throw new LightningNodeError(
          'INSUFFICIENT_BALANCE',
          `dev wallet balance ${w.balanceMsat} msat < ${amountMsat} msat`,
        );
      }
      let preimage: string;
      try {
        preimage = o.node.settle(a.invoice, amountMsat);
      } catch (e) {
        if (e instanceof NotThisNodeError) {
          throw new LightningNodeError(
            'PAYMENT_FAILED',
            'no route: the dev wallet can only pay invoices issued by this dev server',
          );
        }
        throw new LightningNodeError('PAYMENT_FAILED', errorMessage(e));
      }
      w.balanceMsat -= amountMsat;
      w.transactions.push({
        type: 'outgoing',
        state: 'settled',
        invoice: a.invoice,
        description: inv.description ?? '',
        paymentHashHex: inv.paymentHash,
        preimageHex: preimage,
        amountMsat,
        feesPaidMsat: 0,
        createdAt: nowS(),
        settledAt: nowS(),
        expiresAt: inv.expiresAt,
      });
      state.saveNow();
      return { preimageHex: preimage, feesPaidMsat: 0, paymentHashHex: inv.paymentHash };
    },
    async makeInvoice(a): Promise<LightningTransaction> {
      // Nothing can pay it (there is no network), but NWC clients may ask; the invoice is real and signed.
      const preimage = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
      const paymentHash = paymentHashOf(preimage);
      const expiry = a.expirySeconds ?? 3600;
      const createdAt = nowS();
      const invoice = signDevInvoice({
        key,
        network: o.node.network,
        amountMsat: a.amountMsat,
        memo: a.description ?? '',
        expirySeconds: expiry,
        paymentHashHex: paymentHash,
        timestampS: createdAt,
      });
      const tx: LightningTransaction = {
        type: 'incoming',
        state: 'pending',
        invoice,
        description: a.description ?? '',
        paymentHashHex: paymentHash,
        preimageHex: preimage,
        amountMsat: a.amountMsat,
        feesPaidMsat: 0,
        createdAt,
        settledAt: null,
        expiresAt: createdAt + expiry,
      };
      w.transactions.push(tx);
      state.save();
      return tx;
    },
    async lookupInvoice(paymentHashHex: string): Promise<LightningTransaction> {
      const h = paymentHashHex.toLowerCase();
      for (let i = w.transactions.length - 1; i >= 0; i--) {
        const tx = w.transactions[i]!;
        if (tx.paymentHashHex === h) return tx;
      }
      throw new LightningNodeError('NOT_FOUND', `no invoice or payment with hash ${paymentHashHex}`);
    },
    async listTransactions(a: { limit: number }): Promise<LightningTransaction[]> {
      return a.limit > 0 ? w.transactions.slice(-a.limit).reverse() : [];
    },
    async pay(invoice: string): Promise<string> {
      return (await wallet.payInvoice({ invoice, feeLimitMsat: 0 })).preimageHex;
    },
  };
  return wallet;
}
