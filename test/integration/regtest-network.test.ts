// Real payments over the regtest network: bob's lnd behind the NWC wallet service, reached
// through the local relay with @getalby/sdk's NWCClient; alice receives, carol routes.
import { createHash, randomBytes } from 'node:crypto';
import {
  NWCClient,
  Nip47Error,
  Nip47NetworkError,
  Nip47PublishError,
  Nip47TimeoutError,
  Nip47WalletError,
} from '@getalby/sdk/nwc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTestInvoice } from '../support/invoices.ts';
import { control, lnd, regtest } from './regtest-context.ts';

const sha256Hex = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

async function nwcError(p: Promise<unknown>): Promise<Nip47Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Nip47Error) return e;
    throw e;
  }
  throw new Error('expected the NWC request to fail');
}

async function eventually<T>(what: string, timeoutMs: number, f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('regtest Lightning network through NWC', () => {
  const alice = lnd('alice');
  const bob = lnd('bob');
  const carol = lnd('carol');
  const net = regtest();
  let client: NWCClient;

  beforeAll(() => {
    client = new NWCClient({ nostrWalletConnectUrl: net.nwcUri });
  });
  afterAll(() => client.close());

  it('pays an alice invoice over the direct channel; preimage proves it, alice shows SETTLED', async () => {
    const inv = await alice.addInvoice({ valueMsat: 1_000_000, memo: 'direct' });
    const before = (await client.getBalance()).balance;

    const paid = await client.payInvoice({ invoice: inv.paymentRequest });

    expect(sha256Hex(paid.preimage)).toBe(inv.paymentHash);
    expect(paid.fees_paid).toBe(0);
    const settled = await alice.lookupInvoice(inv.paymentHash);
    expect(settled.state).toBe('SETTLED');
    expect(settled.amountPaidMsat).toBe(1_000_000);
    expect(settled.preimageHex).toBe(paid.preimage);
    const track = await bob.trackPayment(inv.paymentHash);
    expect(track?.status).toBe('SUCCEEDED');
    expect(track?.hops).toEqual([[net.nodes.alice.pubkey]]);
    expect((await client.getBalance()).balance).toBe(before - 1_000_000);
  });

  it('routes a payment larger than the direct channel through carol, who earns the fee', async () => {
    const direct = (await bob.listChannels(true)).find((c) => c.remotePubkey === net.nodes.alice.pubkey);
    const amountMsat = 1_200_000_000; // 1.2M sat > bob→alice capacity (1M sat)
    expect(direct && direct.localSat * 1000 < amountMsat).toBe(true);
    const forwardsBefore = (await carol.forwardingHistory()).length;
    const inv = await alice.addInvoice({ valueMsat: amountMsat, memo: 'routed' });

    const paid = await client.payInvoice({ invoice: inv.paymentRequest });

    expect(sha256Hex(paid.preimage)).toBe(inv.paymentHash);
    expect(paid.fees_paid).toBeGreaterThan(0);
    const track = await bob.trackPayment(inv.paymentHash);
    expect(track?.hops.length).toBeGreaterThan(0);
    for (const route of track?.hops ?? []) expect(route).toEqual([net.nodes.carol.pubkey, net.nodes.alice.pubkey]);
    const forwards = await carol.forwardingHistory();
    expect(forwards.length).toBe(forwardsBefore + 1);
    expect(forwards.at(-1)?.feeMsat).toBe(paid.fees_paid);
    expect((await alice.lookupInvoice(inv.paymentHash)).state).toBe('SETTLED');
  });

  it('answers PAYMENT_FAILED (NIP-47: failed for sure) for an invoice to a node no channel reaches, and loses nothing', async () => {
    // Signed by a key that is no node of this network: lnd finds no route and fails the payment for good.
    const invoice = signTestInvoice({
      signingKey: randomBytes(32).toString('hex'),
      paymentHash: randomBytes(32).toString('hex'),
      timestamp: Math.floor(Date.now() / 1000),
      description: 'nowhere',
      satoshis: 10,
      expirySeconds: 600,
    });
    const before = (await client.getBalance()).balance;
    const err = await nwcError(client.payInvoice({ invoice }));
    expect(err).toBeInstanceOf(Nip47WalletError);
    expect(err.code).toBe('PAYMENT_FAILED');
    expect((await client.getBalance()).balance).toBe(before);
  });

  it('answers INSUFFICIENT_BALANCE for an invoice bigger than all of bob’s channels, and loses nothing', async () => {
    const { localMsat } = await bob.channelBalance();
    const amountMsat = 4_000_000_000; // 4M sat > bob's 3M sat of channels
    expect(localMsat).toBeLessThan(amountMsat);
    const inv = await alice.addInvoice({ valueMsat: amountMsat, memo: 'too big' });
    const before = (await client.getBalance()).balance;

    const err = await nwcError(client.payInvoice({ invoice: inv.paymentRequest }));

    expect(err).toBeInstanceOf(Nip47WalletError);
    expect(err.code).toBe('INSUFFICIENT_BALANCE');
    expect((await client.getBalance()).balance).toBe(before);
    expect((await bob.channelBalance()).localMsat).toBe(localMsat);
    expect((await alice.lookupInvoice(inv.paymentHash)).state).toBe('OPEN');
  });

  it('enforces a per-connection budget with QUOTA_EXCEEDED', async () => {
    // 40 sat budget; each 20 sat payment reserves 20 sat + 10 sat fee reserve.
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', { budgetMsat: 40_000 });
    const budgeted = new NWCClient({ nostrWalletConnectUrl: nwcUri });
    try {
      const first = await alice.addInvoice({ valueMsat: 20_000, memo: 'budget 1' });
      const paid = await budgeted.payInvoice({ invoice: first.paymentRequest });
      expect(sha256Hex(paid.preimage)).toBe(first.paymentHash);

      const second = await alice.addInvoice({ valueMsat: 20_000, memo: 'budget 2' });
      const err = await nwcError(budgeted.payInvoice({ invoice: second.paymentRequest }));
      expect(err.code).toBe('QUOTA_EXCEEDED');
      expect((await alice.lookupInvoice(second.paymentHash)).state).toBe('OPEN');

      // The unbudgeted connection to the same wallet still pays it.
      const ok = await client.payInvoice({ invoice: second.paymentRequest });
      expect(sha256Hex(ok.preimage)).toBe(second.paymentHash);
    } finally {
      budgeted.close();
    }
  });

  it("pay_keysend pays alice without an invoice: our preimage (or the service's), settled at alice, TLV records delivered", async () => {
    const before = (await client.getBalance()).balance;
    const preimage = randomBytes(32).toString('hex');
    const sent = await client.payKeysend({
      amount: 7_000,
      pubkey: net.nodes.alice.pubkey,
      preimage,
      tlv_records: [{ type: 696969, value: Buffer.from('hello alice').toString('hex') }],
    });
    expect(sent.preimage).toBe(preimage);
    const atAlice = await alice.lookupInvoice(sha256Hex(preimage));
    expect(atAlice.state).toBe('SETTLED');
    expect(atAlice.amountPaidMsat).toBe(7_000);
    expect(atAlice.preimageHex).toBe(preimage);
    expect(atAlice.isKeysend).toBe(true);
    expect(atAlice.customRecords['696969']).toBe(Buffer.from('hello alice').toString('hex'));
    expect((await client.getBalance()).balance).toBe(before - 7_000 - sent.fees_paid);

    // No preimage given: the service makes one, and it is the one alice settled with.
    const own = await client.payKeysend({ amount: 2_000, pubkey: net.nodes.alice.pubkey });
    expect(own.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect((await alice.lookupInvoice(sha256Hex(own.preimage))).state).toBe('SETTLED');

    // Bad requests are refused before anything is sent.
    const balance = (await client.getBalance()).balance;
    expect((await nwcError(client.payKeysend({ amount: 1_000, pubkey: 'not-a-key' }))).code).toBe('OTHER');
    expect(
      (await nwcError(client.payKeysend({ amount: 1_000, pubkey: net.nodes.alice.pubkey, preimage: 'zz' }))).code,
    ).toBe('OTHER');
    const reserved = await nwcError(
      client.payKeysend({
        amount: 1_000,
        pubkey: net.nodes.alice.pubkey,
        tlv_records: [{ type: 5482373484, value: '00' }],
      }),
    );
    expect(reserved.code).toBe('OTHER');
    expect((await client.getBalance()).balance).toBe(balance);
  });

  it('pay_keysend counts against the connection budget like pay_invoice', async () => {
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', { budgetMsat: 30_000 });
    const budgeted = new NWCClient({ nostrWalletConnectUrl: nwcUri });
    try {
      await budgeted.payKeysend({ amount: 15_000, pubkey: net.nodes.alice.pubkey });
      const preimage = randomBytes(32).toString('hex');
      const err = await nwcError(budgeted.payKeysend({ amount: 15_000, pubkey: net.nodes.alice.pubkey, preimage }));
      expect(err.code).toBe('QUOTA_EXCEEDED');
      expect(await alice.lookupInvoice(sha256Hex(preimage)).catch((e: Error) => e.message)).toMatch(
        /unable to locate|not found/i,
      );
    } finally {
      budgeted.close();
    }
  });

  it("sign_message: bob's node key signs, and alice's lnd recovers bob as the signer", async () => {
    const message = `L402 Autopilot regtest ${Date.now()}`;
    const signed = await client.signMessage({ message });
    expect(signed.message).toBe(message);
    expect(await alice.verifyMessage(message, signed.signature)).toEqual({ valid: true, pubkey: net.nodes.bob.pubkey });
    // The signature covers the message: another message recovers someone else.
    expect((await alice.verifyMessage(`${message}!`, signed.signature)).pubkey).not.toBe(net.nodes.bob.pubkey);
    expect((await nwcError(client.signMessage({ message: '' }))).code).toBe('OTHER');
  });

  it('a connection limited to some methods advertises only those and answers NOT_IMPLEMENTED for the rest', async () => {
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', {
      methods: ['pay_invoice', 'lookup_invoice'],
    });
    const limited = new NWCClient({ nostrWalletConnectUrl: nwcUri });
    try {
      expect((await limited.getInfo()).methods).toEqual(['get_info', 'pay_invoice', 'lookup_invoice']);
      const preimage = randomBytes(32).toString('hex');
      expect(
        (await nwcError(limited.payKeysend({ amount: 1_000, pubkey: net.nodes.alice.pubkey, preimage }))).code,
      ).toBe('NOT_IMPLEMENTED');
      expect((await nwcError(limited.signMessage({ message: 'hi' }))).code).toBe('NOT_IMPLEMENTED');
      expect((await nwcError(limited.getBalance())).code).toBe('NOT_IMPLEMENTED');
      expect(await alice.lookupInvoice(sha256Hex(preimage)).catch((e: Error) => e.message)).toMatch(
        /unable to locate|not found/i,
      );
    } finally {
      limited.close();
    }
  });

  it('answers get_info, get_balance, make_invoice, lookup_invoice and list_transactions from bob’s lnd', async () => {
    const info = await client.getInfo();
    expect(info.pubkey).toBe(net.nodes.bob.pubkey);
    expect(info.network).toBe('regtest');
    expect(info.methods).toEqual(
      expect.arrayContaining([
        'get_info',
        'get_balance',
        'pay_invoice',
        'make_invoice',
        'lookup_invoice',
        'list_transactions',
        'pay_keysend',
        'sign_message',
      ]),
    );
    expect((await client.getBalance()).balance).toBe((await bob.channelBalance()).localMsat);

    const made = await client.makeInvoice({ amount: 5_000, description: 'nwc make_invoice', expiry: 600 });
    expect(made.invoice).toMatch(/^lnbcrt/);
    expect(made.type).toBe('incoming');
    expect(made.state).toBe('pending');
    expect(made.amount).toBe(5_000);
    const inBob = await bob.lookupInvoice(made.payment_hash);
    expect(inBob.state).toBe('OPEN');
    expect(inBob.memo).toBe('nwc make_invoice');

    const byHash = await client.lookupInvoice({ payment_hash: made.payment_hash });
    const byInvoice = await client.lookupInvoice({ invoice: made.invoice });
    expect(byHash.invoice).toBe(made.invoice);
    expect(byInvoice.payment_hash).toBe(made.payment_hash);

    // An outgoing payment is found too, with its preimage.
    const inv = await alice.addInvoice({ valueMsat: 3_000, memo: 'lookup me' });
    const paid = await client.payInvoice({ invoice: inv.paymentRequest });
    const out = await client.lookupInvoice({ payment_hash: inv.paymentHash });
    expect(out.type).toBe('outgoing');
    expect(out.state).toBe('settled');
    expect(out.preimage).toBe(paid.preimage);

    const unknown = await nwcError(client.lookupInvoice({ payment_hash: '00'.repeat(32) }));
    expect(unknown.code).toBe('NOT_FOUND');

    const list = await client.listTransactions({ limit: 50, type: 'outgoing' });
    expect(list.transactions.every((t) => t.type === 'outgoing' && t.state === 'settled')).toBe(true);
    expect(list.transactions.map((t) => t.payment_hash)).toContain(inv.paymentHash);
    const withUnpaid = await client.listTransactions({ limit: 50, unpaid: true });
    expect(withUnpaid.transactions.map((t) => t.payment_hash)).toContain(made.payment_hash);
  });

  it('fails fast while alice is offline and pays again once she is back', async () => {
    const inv = await alice.addInvoice({ valueMsat: 2_000, memo: 'alice offline' });
    await control('/alice/stop');
    try {
      const t0 = Date.now();
      const err = await nwcError(client.payInvoice({ invoice: inv.paymentRequest }));
      expect(err).toBeInstanceOf(Nip47WalletError);
      expect(err.message).toMatch(/payment failed/);
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      await control('/alice/start');
    }
    const again = await alice.addInvoice({ valueMsat: 2_000, memo: 'alice back' });
    const paid = await eventually('pay alice after restart', 30_000, () =>
      client.payInvoice({ invoice: again.paymentRequest }),
    );
    expect(sha256Hex(paid.preimage)).toBe(again.paymentHash);
  });

  it('gives a clear network/timeout error while the relay is down and works again when it is back', async () => {
    await control('/relay/stop');
    try {
      const t0 = Date.now();
      const err = await nwcError(client.getInfo());
      // Depending on whether the client's socket already noticed the drop: can't connect,
      // can't publish, or no reply in time. Never a wallet answer.
      expect(err).not.toBeInstanceOf(Nip47WalletError);
      expect(
        err instanceof Nip47NetworkError || err instanceof Nip47PublishError || err instanceof Nip47TimeoutError,
      ).toBe(true);
      expect(err.message).toMatch(/connect|timeout|publish/i);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await control('/relay/start');
    }
    // The wallet service reconnects on its own (1 s retry loop) and re-publishes its info event.
    const info = await eventually('get_info after relay restart', 20_000, () => client.getInfo());
    expect(info.pubkey).toBe(net.nodes.bob.pubkey);
    const inv = await alice.addInvoice({ valueMsat: 4_000, memo: 'after relay restart' });
    const paid = await client.payInvoice({ invoice: inv.paymentRequest });
    expect(sha256Hex(paid.preimage)).toBe(inv.paymentHash);
    // A brand-new connection also works: it needs the 13194 info event from the restarted relay.
    const fresh = new NWCClient({ nostrWalletConnectUrl: net.nwcUri });
    try {
      expect((await fresh.getInfo()).pubkey).toBe(net.nodes.bob.pubkey);
    } finally {
      fresh.close();
    }
  });
});
