// Wallets that pay for real and then do not say so (docs/security.md "Unknown wallet answers"): the payment leaves
// the node, but the NIP-47 answer is an error that does not mean "failed" (INTERNAL, OTHER, a code no spec names)
// or no answer at all (a reply lost after publishing). Test support only: the product's NWC wallet service and
// LightningNode run unchanged; these wrap them from outside.
import {
  NWCClient,
  NWCWalletService,
  NWCWalletServiceKeyPair,
  type NWCWalletServiceRequestHandler,
  Nip47WalletError,
} from '@getalby/sdk/nwc';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { generateSecretKey, getPublicKey } from 'nostr-tools';
import { type LightningNode, LightningNodeError } from '../../server/nostr/lightning-node.ts';
import {
  type NwcWalletServiceHandle,
  nwcUriFor,
  startNwcWalletService,
  waitForNwcService,
} from '../../server/nostr/nwc-wallet-service.ts';
import { errorMessage } from '../../src/util/error-message.ts';

/**
 * What the node does once the payment has really gone through: throw a node error (the service answers it as
 * NIP-47 `INTERNAL` for `INTERNAL`, `OTHER` for `INVALID`), or never return (the service publishes nothing).
 */
export type AfterPay = 'INTERNAL' | 'INVALID' | 'never-returns';

/** What a misreporting wallet did, in order: `paid <hash>` and `lookup <hash>` (its lookup_invoice calls). */
export type WalletLog = string[];

/**
 * `node` whose payInvoice pays for real, then misreports as `after` says; every other call is the node's own.
 * `log` gets `paid <hash>` and `lookup <hash>` entries. With `lookupFails`, lookups answer INTERNAL too: nobody can
 * tell what happened.
 */
function paysThenMisreports(
  node: LightningNode,
  after: AfterPay,
  log: WalletLog,
  o: { lookupFails?: boolean } = {},
): LightningNode {
  return {
    getInfo: () => node.getInfo(),
    getBalance: () => node.getBalance(),
    makeInvoice: (a) => node.makeInvoice(a),
    lookupInvoice: (h) => {
      log.push(`lookup ${h}`);
      if (o.lookupFails) throw new LightningNodeError('INTERNAL', 'the node cannot say either');
      return node.lookupInvoice(h);
    },
    listTransactions: (a) => node.listTransactions(a),
    async payInvoice(a) {
      const paid = await node.payInvoice(a);
      log.push(`paid ${paid.paymentHashHex}`);
      if (after === 'never-returns') return new Promise<never>(() => undefined);
      throw new LightningNodeError(after, `after paying ${paid.paymentHashHex}: the node's answer was lost`);
    },
  };
}

/**
 * The product's NWC wallet service on `relayUrl` in front of `node`, with payInvoice misreporting as `after` says.
 * Fails loudly when the service cannot start.
 */
export async function startMisreportingService(o: {
  relayUrl: string;
  node: LightningNode;
  after: AfterPay;
  lookupFails?: boolean;
}): Promise<NwcWalletServiceHandle & { log: WalletLog }> {
  const log: WalletLog = [];
  const node = paysThenMisreports(o.node, o.after, log, { lookupFails: o.lookupFails ?? false });
  return { ...(await startNwcWalletService({ relayUrl: o.relayUrl, node })), log };
}

/**
 * A wallet that answers pay_invoice with an error code of its own invention (`code`), after the product's service
 * (`innerUri`) really paid. A NIP-47 front on the same relay: every request is passed to the inner service as a
 * client and its answer passed back, except that a paid pay_invoice is answered `{ error: { code } }`. (The
 * product's service only ever answers codes NIP-47 defines, so an unknown one needs a wallet in front of it.)
 */
export async function startUnknownCodeService(o: {
  relayUrl: string;
  innerUri: string;
  code: string;
}): Promise<NwcWalletServiceHandle & { log: WalletLog }> {
  const log: WalletLog = [];
  const walletSecret = bytesToHex(generateSecretKey());
  const clientSecret = bytesToHex(generateSecretKey());
  const walletPubkey = getPublicKey(Buffer.from(walletSecret, 'hex'));
  const inner = new NWCClient({ nostrWalletConnectUrl: o.innerUri });
  type Reply = { result: never; error: undefined } | { result: undefined; error: { code: string; message: string } };
  const forward = async (call: () => Promise<unknown>): Promise<Reply> => {
    try {
      return { result: (await call()) as never, error: undefined };
    } catch (e) {
      const code = e instanceof Nip47WalletError ? e.code : 'INTERNAL';
      return { result: undefined, error: { code, message: errorMessage(e) } };
    }
  };
  const handler: NWCWalletServiceRequestHandler = {
    getInfo: () => forward(() => inner.getInfo()),
    getBalance: () => forward(() => inner.getBalance()),
    lookupInvoice: (req) => {
      log.push(`lookup ${req.payment_hash ?? req.invoice}`);
      return forward(() => inner.lookupInvoice(req));
    },
    listTransactions: (req) => forward(() => inner.listTransactions(req)),
    payInvoice: async (req) => {
      const r = await forward(() => inner.payInvoice(req));
      if (r.error) return r;
      log.push(`paid ${bytesToHex(sha256(hexToBytes((r.result as { preimage: string }).preimage)))}`);
      return { result: undefined, error: { code: o.code, message: 'the wallet is not sure what happened' } };
    },
  };
  const methods = ['get_info', 'get_balance', 'pay_invoice', 'lookup_invoice', 'list_transactions'] as const;
  const service = new NWCWalletService({ relayUrl: o.relayUrl });
  await service.publishWalletServiceInfoEvent(walletSecret, [...methods], []);
  const unsubscribe = await service.subscribe(
    new NWCWalletServiceKeyPair(walletSecret, getPublicKey(Buffer.from(clientSecret, 'hex'))),
    handler,
  );
  const nwcUri = nwcUriFor(walletPubkey, o.relayUrl, clientSecret);
  const close = async () => {
    unsubscribe();
    service.close();
    inner.close();
  };
  try {
    await waitForNwcService(nwcUri, 20_000);
  } catch (e) {
    await close();
    throw e;
  }
  return { nwcUri, walletPubkey, close, log };
}
