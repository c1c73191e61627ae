import { Nip47NetworkError, Nip47PublishError, Nip47ReplyTimeoutError, Nip47WalletError } from '@getalby/sdk/nwc';
import { describe, expect, it } from 'vitest';
import { createNwcWallet, type NwcClientLike, nwcWalletFromClient, parseNwcUri, toWalletError } from './nwc.ts';
import { codeOf } from '../../test/support/wallet-fakes.ts';

const PK = 'b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4';
const SECRET = '71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c';
const URI = `nostr+walletconnect://${PK}?relay=wss%3A%2F%2Frelay.test&relay=ws%3A%2F%2F127.0.0.1%3A7000&secret=${SECRET}&lud16=a%40b.test`;

describe('parseNwcUri', () => {
  it('reads pubkey, every relay, secret and lud16', () => {
    expect(parseNwcUri(URI)).toEqual({
      walletPubkey: PK,
      relayUrls: ['wss://relay.test', 'ws://127.0.0.1:7000'],
      secret: SECRET,
      lud16: 'a@b.test',
    });
  });
  it.each([
    ['', /empty/],
    [`https://${PK}?relay=wss://r&secret=${SECRET}`, /nostr\+walletconnect/],
    [`nostr+walletconnect://abc?relay=wss://r&secret=${SECRET}`, /public key/],
    [`nostr+walletconnect://${PK}?secret=${SECRET}`, /no relay/],
    [`nostr+walletconnect://${PK}?relay=https://r&secret=${SECRET}`, /ws:\/\/ or wss:\/\//],
    [`nostr+walletconnect://${PK}?relay=nope&secret=${SECRET}`, /not a URL/],
    [`nostr+walletconnect://${PK}?relay=wss://r`, /no secret/],
    [`nostr+walletconnect://${PK}?relay=wss://r&secret=1234`, /secret must be 64 hex/],
  ])('rejects %s', (uri, message) => {
    expect(() => parseNwcUri(uri)).toThrow(message);
  });
  it('never echoes the secret in an error', () => {
    const bad = `nostr+walletconnect://${PK}?relay=wss://r&secret=${SECRET.slice(0, 60)}zzzz`;
    expect(() => parseNwcUri(bad)).toThrow(/^(?!.*71a8c14c)/);
  });
});

function fakeClient(over: Partial<NwcClientLike> = {}): NwcClientLike & { closed: boolean } {
  const c = {
    closed: false,
    payInvoice: async () => ({ preimage: 'AB'.repeat(32), fees_paid: 1000 }),
    lookupInvoice: async () => ({ state: 'settled', preimage: 'cd'.repeat(32), fees_paid: 5 }),
    getInfo: async () => ({ alias: 'bob', pubkey: '02ab', network: 'regtest', methods: ['pay_invoice', 'get_info'] }),
    getBalance: async () => ({ balance: 123_000 }),
    makeInvoice: async () => ({ invoice: 'lnbcrt1…', payment_hash: 'ef'.repeat(32) }),
    close() {
      c.closed = true;
    },
    ...over,
  };
  return c;
}

describe('nwcWalletFromClient', () => {
  it('pays and reports the preimage (lowercase) and fee', async () => {
    const w = nwcWalletFromClient(fakeClient());
    expect(await w.payInvoice('lnbcrt1')).toEqual({ preimage: 'ab'.repeat(32), feeMsat: 1000 });
  });

  it.each([
    ['INSUFFICIENT_BALANCE', 'insufficient_balance'],
    ['QUOTA_EXCEEDED', 'quota_exceeded'],
    ['RATE_LIMITED', 'quota_exceeded'],
    ['RESTRICTED', 'unauthorized'],
    ['UNAUTHORIZED', 'unauthorized'],
    ['NOT_IMPLEMENTED', 'unsupported'],
    ['PAYMENT_FAILED', 'payment_failed'],
    ['INTERNAL', 'internal'],
    ['OTHER', 'internal'],
    ['SOMETHING_NEW', 'internal'],
  ])('maps the NIP-47 error %s of pay_invoice to %s', async (nip47, code) => {
    const w = nwcWalletFromClient(
      fakeClient({
        payInvoice: async () => {
          throw new Nip47WalletError('nope', nip47);
        },
      }),
    );
    expect(await codeOf(w.payInvoice('lnbcrt1'))).toBe(code);
  });

  it('a reply timeout is "timeout" (outcome unknown); an unreachable relay is "unreachable"', () => {
    expect(toWalletError(new Nip47ReplyTimeoutError('reply timeout', 'INTERNAL'), 'pay_invoice').code).toBe('timeout');
    expect(toWalletError(new Nip47NetworkError('Failed to connect', 'OTHER'), 'pay_invoice').code).toBe('unreachable');
    expect(toWalletError(new Nip47PublishError('failed to publish', 'INTERNAL'), 'pay_invoice').code).toBe(
      'unreachable',
    );
    expect(toWalletError(new Error('weird'), 'get_info').code).toBe('internal');
  });

  it('gives up after timeoutMs with "timeout"', async () => {
    const w = nwcWalletFromClient(fakeClient({ payInvoice: () => new Promise(() => {}) }), { timeoutMs: 5 });
    expect(await codeOf(w.payInvoice('lnbcrt1'))).toBe('timeout');
  });

  it('refuses a reply without a preimage', async () => {
    const w = nwcWalletFromClient(fakeClient({ payInvoice: async () => ({ preimage: '' }) }));
    expect(await codeOf(w.payInvoice('lnbcrt1'))).toBe('internal');
  });

  it('looks payments up by hash and maps their state', async () => {
    const states: [Awaited<ReturnType<NwcClientLike['lookupInvoice']>>, string][] = [
      [{ state: 'settled', preimage: 'CD'.repeat(32), fees_paid: 5 }, 'succeeded'],
      [{ state: 'settled' }, 'unknown'],
      [{ state: 'pending' }, 'pending'],
      [{ state: 'accepted' }, 'pending'],
      [{ state: 'failed' }, 'failed'],
      [{}, 'unknown'],
    ];
    for (const [tx, state] of states) {
      const seen: string[] = [];
      const w = nwcWalletFromClient(
        fakeClient({
          lookupInvoice: async (r) => {
            seen.push(r.payment_hash);
            return tx;
          },
        }),
      );
      const r = await w.lookupPayment!('aa'.repeat(32));
      expect(r.state).toBe(state);
      expect(seen).toEqual(['aa'.repeat(32)]);
      if (r.state === 'succeeded') expect(r).toEqual({ state: 'succeeded', preimage: 'cd'.repeat(32), feeMsat: 5 });
    }
  });

  it('a NOT_FOUND lookup is unknown, a lookup timeout is thrown', async () => {
    const notFound = nwcWalletFromClient(
      fakeClient({
        lookupInvoice: async () => {
          throw new Nip47WalletError('not found', 'NOT_FOUND');
        },
      }),
    );
    expect(await notFound.lookupPayment!('aa'.repeat(32))).toEqual({ state: 'unknown' });
    const slow = nwcWalletFromClient(fakeClient({ lookupInvoice: () => new Promise(() => {}) }), { timeoutMs: 5 });
    expect(await codeOf(slow.lookupPayment!('aa'.repeat(32)))).toBe('timeout');
  });

  it('getInfo, getBalance, makeInvoice, close', async () => {
    const client = fakeClient();
    const w = nwcWalletFromClient(client);
    expect(await w.getInfo!()).toEqual({
      alias: 'bob',
      pubkey: '02ab',
      network: 'regtest',
      methods: ['pay_invoice', 'get_info'],
    });
    expect(await w.getBalance!()).toEqual({ balanceMsat: 123_000 });
    expect(await w.makeInvoice!({ amountMsat: 1000 })).toEqual({
      paymentRequest: 'lnbcrt1…',
      paymentHash: 'ef'.repeat(32),
    });
    w.close!();
    expect(client.closed).toBe(true);
  });
});

describe('nwcWalletFromClient: lookupInvoice, keysend, signMessage', () => {
  const ALL = ['get_info', 'pay_invoice', 'lookup_invoice', 'pay_keysend', 'sign_message'];
  const info = (methods: string[]) => async () => ({ alias: 'bob', pubkey: '02ab', network: 'regtest', methods });
  const DEST = `02${'11'.repeat(32)}`;

  it('lookupInvoice maps a settled incoming invoice, and an unpaid one without preimage', async () => {
    let tx: Awaited<ReturnType<NwcClientLike['lookupInvoice']>> = {
      type: 'incoming',
      state: 'settled',
      invoice: 'lnbcrt5u1…',
      payment_hash: 'AA'.repeat(32),
      preimage: 'BB'.repeat(32),
      amount: 5000,
    };
    const w = nwcWalletFromClient(fakeClient({ getInfo: info(ALL), lookupInvoice: async () => tx }));
    expect(await w.lookupInvoice!('aa'.repeat(32))).toEqual({
      type: 'incoming',
      paymentRequest: 'lnbcrt5u1…',
      paymentHash: 'aa'.repeat(32),
      paid: true,
      preimage: 'bb'.repeat(32),
      amountMsat: 5000,
    });
    tx = { type: 'incoming', state: 'pending', invoice: 'lnbcrt5u1…', preimage: 'BB'.repeat(32) };
    expect(await w.lookupInvoice!('aa'.repeat(32))).toMatchObject({
      paid: false,
      preimage: null,
      paymentHash: 'aa'.repeat(32),
    });
  });

  it('keysend sends amount (msat), pubkey, OUR preimage and hex TLV records', async () => {
    const calls: unknown[] = [];
    const w = nwcWalletFromClient(
      fakeClient({
        getInfo: info(ALL),
        payKeysend: async (r) => {
          calls.push(r);
          return { preimage: 'CC'.repeat(32), fees_paid: 7 };
        },
      }),
    );
    expect(await w.supports!('keysend')).toBe(true);
    const r = await w.keysend!({
      destination: DEST,
      amountMsat: 21_000,
      preimage: 'cc'.repeat(32),
      customRecords: { '696969': 'hi' },
    });
    expect(r).toEqual({ preimage: 'cc'.repeat(32), feeMsat: 7 });
    expect(calls).toEqual([
      { amount: 21_000, pubkey: DEST, preimage: 'cc'.repeat(32), tlv_records: [{ type: 696969, value: '6869' }] },
    ]);
  });

  it('a method get_info does not list is "unsupported" without being sent; NOT_IMPLEMENTED is too', async () => {
    const sent: string[] = [];
    const w = nwcWalletFromClient(
      fakeClient({
        getInfo: info(['get_info', 'pay_invoice', 'lookup_invoice']),
        payKeysend: async () => {
          sent.push('pay_keysend');
          return { preimage: 'cc'.repeat(32) };
        },
        signMessage: async () => {
          sent.push('sign_message');
          return { message: 'm', signature: 's' };
        },
      }),
    );
    expect(await w.supports!('keysend')).toBe(false);
    expect(await w.supports!('signMessage')).toBe(false);
    expect(await w.supports!('lookupInvoice')).toBe(true);
    expect(await codeOf(w.keysend!({ destination: DEST, amountMsat: 1000, preimage: 'cc'.repeat(32) }))).toBe(
      'unsupported',
    );
    expect(await codeOf(w.signMessage!('hello'))).toBe('unsupported');
    expect(sent).toEqual([]);

    const lying = nwcWalletFromClient(
      fakeClient({
        getInfo: info(ALL),
        payKeysend: async () => {
          throw new Nip47WalletError('no keysend here', 'NOT_IMPLEMENTED');
        },
      }),
    );
    expect(await codeOf(lying.keysend!({ destination: DEST, amountMsat: 1000, preimage: 'cc'.repeat(32) }))).toBe(
      'unsupported',
    );
    // A client without the method at all (an older or partial NWC client).
    expect(await nwcWalletFromClient(fakeClient({ getInfo: info(ALL) })).supports!('signMessage')).toBe(false);
  });

  it('signMessage returns the message and signature; a wallet that lists no methods is asked anyway', async () => {
    const w = nwcWalletFromClient(
      fakeClient({
        getInfo: info([]),
        signMessage: async (r) => ({ message: r.message, signature: `sig(${r.message})` }),
      }),
    );
    expect(await w.supports!('signMessage')).toBe(true);
    expect(await w.signMessage!('hello')).toEqual({ message: 'hello', signature: 'sig(hello)' });
  });
});

describe('createNwcWallet', () => {
  it('throws the parser error for a bad URI and builds lazily for a good one', () => {
    expect(() => createNwcWallet('nostr+walletconnect://x')).toThrow(/public key/);
    const w = createNwcWallet(URI);
    expect(typeof w.payInvoice).toBe('function');
    w.close!();
  });
});
