// LightningNode on top of lnd's REST API.
import { LndError, type LndInvoice, type LndPayment, type LndRest } from '../lightning/lnd-rest.ts';
import {
  type LightningNode,
  LightningNodeError,
  type LightningTransaction,
  type PaidInvoice,
} from './lightning-node.ts';
import { errorMessage } from '../../src/util/error-message.ts';

function isNotFound(e: unknown): boolean {
  return (
    e instanceof LndError &&
    e.code === 'http' &&
    (e.status === 404 || /unable to locate invoice|no existing invoices|not found/i.test(e.message))
  );
}

function toNodeError(e: unknown): LightningNodeError {
  if (e instanceof LightningNodeError) return e;
  if (e instanceof LndError) {
    if (e.code === 'unreachable' || e.code === 'timeout') return new LightningNodeError('UNAVAILABLE', e.message);
    if (e.code === 'invalid_argument') return new LightningNodeError('INVALID', e.message);
    if (isNotFound(e)) return new LightningNodeError('NOT_FOUND', e.message);
    // lnd refuses some payments before trying them (e.g. amount above every channel).
    if (/insufficient (local )?balance/i.test(e.message))
      return new LightningNodeError('INSUFFICIENT_BALANCE', e.message);
    return new LightningNodeError('INTERNAL', e.message);
  }
  return new LightningNodeError('INTERNAL', errorMessage(e));
}

async function wrap<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toNodeError(e);
  }
}

function fromInvoice(i: LndInvoice): LightningTransaction {
  return {
    type: 'incoming',
    state:
      i.state === 'SETTLED'
        ? 'settled'
        : i.state === 'CANCELED'
          ? 'failed'
          : i.state === 'ACCEPTED'
            ? 'accepted'
            : 'pending',
    invoice: i.paymentRequest,
    description: i.memo,
    paymentHashHex: i.paymentHash,
    preimageHex: i.preimageHex,
    amountMsat: i.state === 'SETTLED' ? i.amountPaidMsat : i.valueMsat,
    feesPaidMsat: 0,
    createdAt: i.creationDate,
    settledAt: i.settleDate,
    expiresAt: i.creationDate + i.expiry,
  };
}

function fromPayment(p: LndPayment): LightningTransaction {
  return {
    type: 'outgoing',
    state: p.status === 'SUCCEEDED' ? 'settled' : p.status === 'FAILED' ? 'failed' : 'pending',
    invoice: p.paymentRequest,
    description: '',
    paymentHashHex: p.paymentHash,
    preimageHex: p.preimageHex,
    amountMsat: p.valueMsat,
    feesPaidMsat: p.feeMsat,
    createdAt: p.creationTimeSec,
    settledAt: null,
    expiresAt: null,
  };
}

// lnd's failure reasons that mean "not enough outbound liquidity". NO_ROUTE stays a plain
// failure: it is also what an offline destination gives.
const LIQUIDITY_FAILURES = new Set(['INSUFFICIENT_BALANCE']);

/** A finished payment's outcome, or the node error for a failed one. */
function settled(p: LndPayment<'SUCCEEDED' | 'FAILED'>): PaidInvoice {
  if (p.status === 'SUCCEEDED' && p.preimageHex) {
    return { preimageHex: p.preimageHex, feesPaidMsat: p.feeMsat, paymentHashHex: p.paymentHash };
  }
  const reason = p.failureReason ?? 'UNKNOWN';
  throw new LightningNodeError(
    LIQUIDITY_FAILURES.has(reason) ? 'INSUFFICIENT_BALANCE' : 'PAYMENT_FAILED',
    `payment failed: ${reason}`,
  );
}

export function lndLightningNode(rest: LndRest): LightningNode {
  return {
    getInfo: () =>
      wrap(async () => {
        const i = await rest.getInfo();
        return {
          alias: i.alias,
          pubkey: i.identityPubkey,
          network: i.network,
          blockHeight: i.blockHeight,
          blockHash: i.blockHash,
        };
      }),
    getBalance: () => wrap(async () => ({ balanceMsat: (await rest.channelBalance()).localMsat })),
    payInvoice: (a) =>
      wrap(async () => {
        const p = await rest.payInvoice({
          paymentRequest: a.invoice,
          feeLimitSat: Math.floor(a.feeLimitMsat / 1000),
          timeoutSeconds: 60,
          ...(a.amountMsat === undefined ? {} : { amountMsat: a.amountMsat }),
        });
        return settled(p);
      }),
    payKeysend: (a) =>
      wrap(async () =>
        settled(
          await rest.keysend({
            destinationHex: a.destinationHex,
            amountMsat: a.amountMsat,
            preimageHex: a.preimageHex,
            customRecords: a.customRecords,
            feeLimitSat: Math.floor(a.feeLimitMsat / 1000),
            timeoutSeconds: 60,
          }),
        ),
      ),
    signMessage: (message) => wrap(async () => ({ signature: await rest.signMessage(message) })),
    makeInvoice: (a) =>
      wrap(async () => {
        const added = await rest.addInvoice({
          valueMsat: a.amountMsat,
          ...(a.description === undefined ? {} : { memo: a.description }),
          ...(a.expirySeconds === undefined ? {} : { expirySeconds: a.expirySeconds }),
        });
        return fromInvoice(await rest.lookupInvoice(added.paymentHash));
      }),
    lookupInvoice: (hash) =>
      wrap(async () => {
        try {
          return fromInvoice(await rest.lookupInvoice(hash));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        const p = await rest.trackPayment(hash);
        if (!p) throw new LightningNodeError('NOT_FOUND', `no invoice or payment with hash ${hash}`);
        return fromPayment(p);
      }),
    listTransactions: ({ limit }) =>
      wrap(async () => {
        const [invoices, payments] = await Promise.all([rest.listInvoices(limit), rest.listPayments(limit)]);
        return [...invoices.map(fromInvoice), ...payments.map(fromPayment)].sort((a, b) => b.createdAt - a.createdAt);
      }),
  };
}
