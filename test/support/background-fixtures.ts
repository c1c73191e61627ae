// Test helpers for the background modules (imported by *.test.ts only): real signed invoices and
// macaroons, and a fake Wallet whose behaviour each test chooses.
import bolt11 from 'bolt11';
import { signTestInvoice } from './invoices.ts';
import { formatL402Challenge, hexToBytes as maybeBytes, mintMacaroon, paymentHashOf } from '../../src/l402/index.ts';
import type { PaymentLookup, PaymentResult, Wallet } from '../../src/wallet/wallet.ts';
import { WalletError } from '../../src/wallet/wallet.ts';
import { DEFAULT_SETTINGS, type Rules, type Settings } from '../../src/extension/model/model.ts';

/** Wednesday 2026-11-25 12:00 UTC. */
export const NOW = Date.parse('2026-11-25T12:00:00Z');
const SIGNING_KEY = 'e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734';

function hexToBytes(hex: string): Uint8Array {
  const b = maybeBytes(hex);
  if (!b) throw new Error(`not hex: ${hex}`);
  return b;
}

let counter = 0;
/** A fresh 32-byte hex preimage (deterministic per run). */
export function newPreimage(): string {
  counter += 1;
  return counter.toString(16).padStart(64, '0');
}

export function makeInvoice(o: {
  paymentHash: string;
  sats: number;
  now?: number;
  expiry?: number;
  description?: string;
}): string {
  return signTestInvoice({
    signingKey: SIGNING_KEY,
    satoshis: o.sats,
    timestamp: Math.floor((o.now ?? NOW) / 1000),
    paymentHash: o.paymentHash,
    description: o.description ?? 'priced call',
    expirySeconds: o.expiry ?? 3600,
  });
}

export interface Challenge {
  preimage: string;
  paymentHash: string;
  invoice: string;
  macaroon: string;
  header: string;
}

/** A complete L402 challenge; `invoiceHash` lets a test make the invoice disagree with the macaroon. */
export function makeChallenge(
  o: { sats?: number; now?: number; caveats?: string[]; invoiceHash?: string; expiry?: number } = {},
): Challenge {
  const preimage = newPreimage();
  const paymentHash = paymentHashOf(preimage);
  const macaroon = mintMacaroon({
    rootKey: hexToBytes('aa'.repeat(32)),
    paymentHash: hexToBytes(paymentHash),
    tokenId: hexToBytes(preimage),
    caveats: o.caveats ?? [],
  });
  const invoice = makeInvoice({
    paymentHash: o.invoiceHash ?? paymentHash,
    sats: o.sats ?? 10,
    now: o.now,
    expiry: o.expiry,
  });
  return { preimage, paymentHash, invoice, macaroon, header: formatL402Challenge({ macaroon, invoice }) };
}

type FakeBehaviour = 'ok' | 'timeout' | 'insufficient_balance' | 'unreachable' | 'wrong_preimage';

/** A fake wallet that knows the preimages of the challenges it is told about. */
export class FakeWallet implements Wallet {
  readonly preimages = new Map<string, string>();
  readonly paid: string[] = [];
  readonly settled = new Set<string>();
  behaviour: FakeBehaviour = 'ok';
  feeMsat: number | null = 1000;
  /** What lookupPayment says for a hash not settled by this wallet. */
  lookupDefault: PaymentLookup = { state: 'unknown' };
  /** Awaited inside payInvoice (lets tests interleave). */
  gate: () => Promise<void> = async () => {};
  network: string | null = 'regtest';
  /** While true, lookupPayment does not reveal settled payments (the wallet "does not know yet"). */
  hideSettled = false;

  know(c: Challenge): Challenge {
    this.preimages.set(c.paymentHash, c.preimage);
    return c;
  }

  async payInvoice(paymentRequest: string): Promise<PaymentResult> {
    const hash = bolt11.decode(paymentRequest).tagsObject.payment_hash ?? '';
    this.paid.push(hash);
    await this.gate();
    const preimage = this.preimages.get(hash);
    if (this.behaviour === 'insufficient_balance') throw new WalletError('insufficient_balance', 'balance too low');
    if (this.behaviour === 'unreachable') throw new WalletError('unreachable', 'relay down');
    if (!preimage) throw new WalletError('payment_failed', 'no route');
    // A timeout after the wallet actually paid: the outcome is unknown to the caller, settled in the wallet.
    this.settled.add(hash);
    if (this.behaviour === 'timeout') throw new WalletError('timeout', 'no reply in time');
    if (this.behaviour === 'wrong_preimage') return { preimage: 'ff'.repeat(32), feeMsat: this.feeMsat };
    return { preimage, feeMsat: this.feeMsat };
  }

  async lookupPayment(paymentHash: string): Promise<PaymentLookup> {
    const preimage = this.preimages.get(paymentHash);
    if (!this.hideSettled && this.settled.has(paymentHash) && preimage)
      return { state: 'succeeded', preimage, feeMsat: this.feeMsat };
    return this.lookupDefault;
  }

  async getInfo() {
    return { alias: 'fake', pubkey: null, network: this.network, methods: ['pay_invoice', 'lookup_invoice'] };
  }

  async getBalance() {
    return { balanceMsat: 5_000_000 };
  }
}

/** Default settings with an NWC wallet and rule changes. */
export function settingsWith(rules: Partial<Rules> = {}): Settings {
  return {
    ...DEFAULT_SETTINGS,
    wallet: {
      kind: 'nwc',
      uri: `nostr+walletconnect://${'ab'.repeat(32)}?relay=wss%3A%2F%2Frelay.example&secret=${'cd'.repeat(32)}`,
    },
    rules: { ...DEFAULT_SETTINGS.rules, ...rules },
  };
}
