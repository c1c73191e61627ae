// NIP-47 (Nostr Wallet Connect) wallet service in front of any LightningNode, built on
// @getalby/sdk's NWCWalletService. One call = one connection: a fresh wallet keypair and
// client secret, an optional budget, and its own relay socket.
import {
  NWCClient,
  NWCWalletService,
  NWCWalletServiceKeyPair,
  type NWCWalletServiceRequestHandler,
  Nip47WalletError,
  type Nip47ListTransactionsRequest,
  type Nip47SingleMethod,
  type Nip47Transaction,
} from '@getalby/sdk/nwc';
import { decode as decodeBolt11 } from 'light-bolt11-decoder';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { generateSecretKey, getPublicKey } from 'nostr-tools';
import { type LightningNode, LightningNodeError, type LightningTransaction } from './lightning-node.ts';
import { errorMessage } from '../../src/util/error-message.ts';

export type BudgetRenewal = 'never' | 'daily' | 'weekly' | 'monthly' | 'yearly';

interface NwcWalletServiceOptions {
  relayUrl: string;
  node: LightningNode;
  /** Max msat spent (amount + fee reserve) per renewal period; no limit when absent. */
  budgetMsat?: number;
  budgetRenewal?: BudgetRenewal;
  /** How long to wait for the first get_info round trip (default 20 s). */
  readyTimeoutMs?: number;
  /**
   * The methods this connection may use (real wallet services let the user choose per connection); default:
   * all the node supports. Others answer NOT_IMPLEMENTED and are not advertised.
   */
  methods?: readonly Nip47SingleMethod[];
  /** Fixed keys (hex secrets) so the NWC URI survives restarts (`npm start`); fresh ones when absent. */
  keys?: { walletSecretHex: string; clientSecretHex: string };
}

export interface NwcWalletServiceHandle {
  nwcUri: string;
  walletPubkey: string;
  close(): Promise<void>;
}

/** What every node offers; `pay_keysend` and `sign_message` are added when the node can (see methodsOf). */
const NWC_METHODS: Nip47SingleMethod[] = [
  'get_info',
  'get_balance',
  'pay_invoice',
  'make_invoice',
  'lookup_invoice',
  'list_transactions',
];

/** The NIP-47 methods a service in front of `node` can answer. */
function methodsOf(node: LightningNode): Nip47SingleMethod[] {
  return [
    ...NWC_METHODS,
    ...(node.payKeysend ? (['pay_keysend'] as const) : []),
    ...(node.signMessage ? (['sign_message'] as const) : []),
  ];
}

type Nip47ErrorCode = 'INSUFFICIENT_BALANCE' | 'QUOTA_EXCEEDED' | 'NOT_FOUND' | 'PAYMENT_FAILED' | 'INTERNAL' | 'OTHER';
type Reply<T> = { result: T | undefined; error: { code: string; message: string } | undefined };

const ok = <T>(result: T): Reply<T> => ({ result, error: undefined });
const fail = <T>(code: Nip47ErrorCode, message: string): Reply<T> => ({ result: undefined, error: { code, message } });

function nip47Code(e: unknown): Nip47ErrorCode {
  if (!(e instanceof LightningNodeError)) return 'INTERNAL';
  switch (e.code) {
    case 'INSUFFICIENT_BALANCE':
      return 'INSUFFICIENT_BALANCE';
    case 'NOT_FOUND':
      return 'NOT_FOUND';
    // The node says for sure that the payment failed: NIP-47's PAYMENT_FAILED, which a client may act on at once
    // (OTHER or INTERNAL would make it look the payment up first).
    case 'PAYMENT_FAILED':
      return 'PAYMENT_FAILED';
    case 'INVALID':
      return 'OTHER';
    default:
      return 'INTERNAL';
  }
}

/** Every handler answers; a thrown error becomes a NIP-47 error instead of no reply. */
async function guard<T>(f: () => Promise<Reply<T>>): Promise<Reply<T>> {
  try {
    return await f();
  } catch (e) {
    return fail(nip47Code(e), errorMessage(e));
  }
}

function toNip47(t: LightningTransaction): Nip47Transaction {
  const tx: Partial<Nip47Transaction> = {
    type: t.type,
    state: t.state,
    invoice: t.invoice,
    description: t.description,
    description_hash: '',
    preimage: t.preimageHex ?? '',
    payment_hash: t.paymentHashHex,
    amount: t.amountMsat,
    fees_paid: t.feesPaidMsat,
    created_at: t.createdAt,
  };
  // NIP-47 makes these optional; the SDK type marks them required, so leave them out when unknown.
  if (t.settledAt !== null) tx.settled_at = t.settledAt;
  if (t.expiresAt !== null) tx.expires_at = t.expiresAt;
  return tx as Nip47Transaction;
}

interface DecodedInvoice {
  amountMsat: number | null;
  paymentHashHex: string;
}

function decodeInvoice(invoice: string): DecodedInvoice {
  const d = decodeBolt11(invoice);
  let amountMsat: number | null = null;
  let paymentHashHex = '';
  for (const s of d.sections) {
    if (s.name === 'amount') amountMsat = Number(s.value);
    if (s.name === 'payment_hash') paymentHashHex = String(s.value);
  }
  return { amountMsat, paymentHashHex };
}

/** Routing fee reserve asked from the node: 1 %, at least 10 sat. */
function feeReserveMsat(amountMsat: number): number {
  return Math.max(10_000, Math.ceil(amountMsat / 100));
}

const RENEWAL_MS: Record<BudgetRenewal, number> = {
  never: Number.POSITIVE_INFINITY,
  daily: 86_400_000,
  weekly: 7 * 86_400_000,
  monthly: 30 * 86_400_000,
  yearly: 365 * 86_400_000,
};

/** Spend tracking for one connection; reservations are taken before paying so parallel calls can't overspend. */
class Budget {
  private usedMsat = 0;
  private windowStart = Date.now();
  private readonly totalMsat: number;
  private readonly periodMs: number;
  constructor(totalMsat: number, renewal: BudgetRenewal) {
    this.totalMsat = totalMsat;
    this.periodMs = RENEWAL_MS[renewal];
  }
  reserve(msat: number): boolean {
    if (Date.now() - this.windowStart >= this.periodMs) {
      this.windowStart = Date.now();
      this.usedMsat = 0;
    }
    if (this.usedMsat + msat > this.totalMsat) return false;
    this.usedMsat += msat;
    return true;
  }
  release(msat: number): void {
    this.usedMsat = Math.max(0, this.usedMsat - msat);
  }
  get remainingMsat(): number {
    return this.totalMsat - this.usedMsat;
  }
}

/**
 * Runs one payment under the connection's budget: reserve amount + fee reserve first (parallel calls can't
 * overspend), keep only what was really spent.
 */
async function spend(
  budget: Budget | null,
  amountMsat: number,
  pay: (feeLimitMsat: number) => Promise<{ preimageHex: string; feesPaidMsat: number }>,
): Promise<Reply<{ preimage: string; fees_paid: number }>> {
  const feeLimitMsat = feeReserveMsat(amountMsat);
  const reserved = amountMsat + feeLimitMsat;
  if (budget && !budget.reserve(reserved)) {
    return fail(
      'QUOTA_EXCEEDED',
      `budget exceeded: ${reserved} msat needed (incl. fee reserve), ${budget.remainingMsat} msat left`,
    );
  }
  try {
    const paid = await pay(feeLimitMsat);
    budget?.release(reserved - amountMsat - paid.feesPaidMsat);
    return ok({ preimage: paid.preimageHex, fees_paid: paid.feesPaidMsat });
  } catch (e) {
    // A definitive failure spent nothing; an unknown outcome keeps the reservation.
    if (e instanceof LightningNodeError && e.code !== 'UNAVAILABLE') budget?.release(reserved);
    throw e;
  }
}

const HEX = /^(?:[0-9a-f]{2})*$/i;

function handlerFor(
  node: LightningNode,
  budget: Budget | null,
  methods: readonly Nip47SingleMethod[],
): NWCWalletServiceRequestHandler {
  const payKeysend = node.payKeysend?.bind(node);
  const signMessage = node.signMessage?.bind(node);
  const handler: NWCWalletServiceRequestHandler = {
    getInfo: () =>
      guard(async () => {
        const i = await node.getInfo();
        return ok({
          alias: i.alias,
          color: '#f7931a',
          pubkey: i.pubkey,
          network: i.network,
          block_height: i.blockHeight,
          block_hash: i.blockHash,
          methods: [...methods],
          notifications: [],
        });
      }),
    getBalance: () => guard(async () => ok({ balance: (await node.getBalance()).balanceMsat })),
    payInvoice: (req) =>
      guard(async () => {
        let decoded: DecodedInvoice;
        try {
          decoded = decodeInvoice(req.invoice);
        } catch (e) {
          return fail('OTHER', `invalid invoice: ${errorMessage(e)}`);
        }
        const amountMsat = decoded.amountMsat ?? req.amount;
        if (!amountMsat) return fail('OTHER', 'zero-amount invoice needs an amount');
        return spend(budget, amountMsat, (feeLimitMsat) =>
          node.payInvoice({
            invoice: req.invoice,
            feeLimitMsat,
            ...(decoded.amountMsat === null ? { amountMsat } : {}),
          }),
        );
      }),
    makeInvoice: (req) =>
      guard(async () => {
        if (!Number.isSafeInteger(req.amount) || req.amount <= 0)
          return fail('OTHER', 'amount must be a positive msat integer');
        const tx = await node.makeInvoice({
          amountMsat: req.amount,
          ...(req.description === undefined ? {} : { description: req.description }),
          ...(req.expiry === undefined ? {} : { expirySeconds: req.expiry }),
        });
        return ok(toNip47(tx));
      }),
    lookupInvoice: (req) =>
      guard(async () => {
        let hash = req.payment_hash;
        if (!hash && req.invoice) {
          try {
            hash = decodeInvoice(req.invoice).paymentHashHex;
          } catch {
            return fail('OTHER', 'invalid invoice');
          }
        }
        if (!hash || !/^[0-9a-f]{64}$/i.test(hash)) return fail('OTHER', 'payment_hash or invoice required');
        return ok(toNip47(await node.lookupInvoice(hash.toLowerCase())));
      }),
    listTransactions: (req) =>
      guard(async () => ok(listTransactions(await node.listTransactions({ limit: 1000 }), req))),
  };
  if (payKeysend) {
    handler.payKeysend = (req) =>
      guard(async () => {
        if (!Number.isSafeInteger(req.amount) || req.amount <= 0)
          return fail('OTHER', 'amount must be a positive msat integer');
        if (typeof req.pubkey !== 'string' || !/^0[23][0-9a-f]{64}$/i.test(req.pubkey))
          return fail('OTHER', 'pubkey must be a node public key (33 bytes hex)');
        if (req.preimage !== undefined && !/^[0-9a-f]{64}$/i.test(req.preimage))
          return fail('OTHER', 'preimage must be 32 bytes hex');
        const customRecords: Record<string, string> = {};
        for (const r of req.tlv_records ?? []) {
          if (!Number.isSafeInteger(r.type) || r.type < 65536 || typeof r.value !== 'string' || !HEX.test(r.value)) {
            return fail('OTHER', 'tlv_records: custom types are integers ≥ 65536 with hex values');
          }
          customRecords[String(r.type)] = r.value.toLowerCase();
        }
        const preimageHex = (req.preimage ?? bytesToHex(randomBytes(32))).toLowerCase();
        // The SDK types pay_keysend's result as a transaction; NIP-47 asks for preimage + fees_paid: send both.
        const reply = await spend(budget, req.amount, (feeLimitMsat) =>
          payKeysend({
            destinationHex: req.pubkey.toLowerCase(),
            amountMsat: req.amount,
            preimageHex,
            customRecords,
            feeLimitMsat,
          }),
        );
        if (!reply.result) return { result: undefined, error: reply.error };
        return ok({
          type: 'outgoing',
          state: 'settled',
          invoice: '',
          description: '',
          description_hash: '',
          preimage: reply.result.preimage,
          payment_hash: bytesToHex(sha256(hexToBytes(preimageHex))),
          amount: req.amount,
          fees_paid: reply.result.fees_paid,
          created_at: Math.floor(Date.now() / 1000),
          settled_at: Math.floor(Date.now() / 1000),
        } as Nip47Transaction);
      });
  }
  if (signMessage) {
    handler.signMessage = (req) =>
      guard(async () => {
        if (typeof req.message !== 'string' || req.message.length === 0)
          return fail('OTHER', 'message must be a non-empty string');
        return ok({ message: req.message, signature: (await signMessage(req.message)).signature });
      });
  }
  // Methods this connection may not use are not answered at all (the SDK replies NOT_IMPLEMENTED).
  const allowed = new Set<string>(methods);
  return Object.fromEntries(
    Object.entries(handler).filter(([key]) => allowed.has(METHOD_OF[key as keyof typeof METHOD_OF])),
  ) as NWCWalletServiceRequestHandler;
}

/** Handler key → NIP-47 method. */
const METHOD_OF = {
  getInfo: 'get_info',
  getBalance: 'get_balance',
  payInvoice: 'pay_invoice',
  payKeysend: 'pay_keysend',
  makeInvoice: 'make_invoice',
  lookupInvoice: 'lookup_invoice',
  listTransactions: 'list_transactions',
  signMessage: 'sign_message',
} as const satisfies Partial<Record<keyof NWCWalletServiceRequestHandler, Nip47SingleMethod>>;

function listTransactions(all: LightningTransaction[], req: Nip47ListTransactionsRequest) {
  const filtered = all.filter(
    (t) =>
      (req.from === undefined || t.createdAt >= req.from) &&
      (req.until === undefined || t.createdAt <= req.until) &&
      (req.type === undefined || t.type === req.type) &&
      (req.unpaid === true || t.state === 'settled'),
  );
  const offset = req.offset ?? 0;
  const page = filtered.slice(offset, req.limit === undefined ? undefined : offset + req.limit);
  return { transactions: page.map(toNip47), total_count: filtered.length };
}

export function nwcUriFor(walletPubkey: string, relayUrl: string, clientSecretHex: string): string {
  return `nostr+walletconnect://${walletPubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${clientSecretHex}`;
}

export async function startNwcWalletService(opts: NwcWalletServiceOptions): Promise<NwcWalletServiceHandle> {
  const walletSecret = opts.keys?.walletSecretHex ?? bytesToHex(generateSecretKey());
  const walletPubkey = getPublicKey(Buffer.from(walletSecret, 'hex'));
  const clientSecret = opts.keys?.clientSecretHex ?? bytesToHex(generateSecretKey());
  const clientPubkey = getPublicKey(Buffer.from(clientSecret, 'hex'));
  const nwcUri = nwcUriFor(walletPubkey, opts.relayUrl, clientSecret);
  const budget = opts.budgetMsat === undefined ? null : new Budget(opts.budgetMsat, opts.budgetRenewal ?? 'never');
  const supported = methodsOf(opts.node);
  const methods = opts.methods ? supported.filter((m) => m === 'get_info' || opts.methods?.includes(m)) : supported;

  // One service (= one relay socket) per connection: the SDK keeps a single onclose
  // callback per relay, so sharing it would leave all but one subscription dead after a drop.
  const service = new NWCWalletService({ relayUrl: opts.relayUrl });
  const publishInfo = () => service.publishWalletServiceInfoEvent(walletSecret, methods, []);
  await publishInfo();
  const unsubscribe = await service.subscribe(
    new NWCWalletServiceKeyPair(walletSecret, clientPubkey),
    handlerFor(opts.node, budget, methods),
  );

  // After a relay restart the SDK resubscribes on its own; re-publish the info event too
  // so a relay that lost its store still tells clients which encryption to use.
  let wasConnected = true;
  const watchdog = setInterval(() => {
    const now = service.connected;
    if (now && !wasConnected) publishInfo().catch(() => undefined);
    wasConnected = now;
  }, 500);
  watchdog.unref();

  const close = async () => {
    clearInterval(watchdog);
    unsubscribe();
    service.close();
  };

  try {
    await waitForNwcService(nwcUri, opts.readyTimeoutMs ?? 20_000);
  } catch (e) {
    await close();
    throw e;
  }
  return { nwcUri, walletPubkey, close };
}

/**
 * Resolves once the wallet service behind `nwcUri` answers a get_info round trip. The SDK's
 * subscribe() may resolve before the relay registered the REQ, and after a relay restart the
 * service needs a moment to resubscribe.
 */
export async function waitForNwcService(nwcUri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new NWCClient({ nostrWalletConnectUrl: nwcUri });
    try {
      await Promise.race([
        client.getInfo(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no get_info reply within 3 s')), 3000).unref()),
      ]);
      return;
    } catch (e) {
      // A wallet error is still a reply: the subscription is live.
      if (e instanceof Nip47WalletError) return;
      lastError = e;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      client.close();
    }
  }
  throw new Error(`NWC wallet service did not answer get_info within ${timeoutMs} ms: ${errorMessage(lastError)}`);
}
