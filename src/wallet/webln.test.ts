import type { WebLNProvider } from '@webbtc/webln-types';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/support/wallet-fakes.ts';
import { WalletError } from './wallet.ts';
import { payInvoiceWallet, toWallet, weblnError, weblnWallet } from './webln.ts';

class RejectionError extends Error {}
class UnsupportedMethodError extends Error {}

function provider(over: Partial<WebLNProvider> = {}) {
  const calls: string[] = [];
  const p: WebLNProvider = {
    enable: async () => {
      calls.push('enable');
    },
    getInfo: async () => ({
      node: { alias: 'alby', pubkey: '02cd' },
      version: '1',
      supports: ['lightning'],
      methods: ['sendPayment'],
    }),
    makeInvoice: async () => ({ paymentRequest: 'lnbcrt1' }),
    sendPayment: async (pr) => {
      calls.push(`pay ${pr}`);
      return { preimage: 'AA'.repeat(32) };
    },
    getBalance: async () => ({ balance: 21 }),
    ...over,
  };
  return { p, calls };
}

describe('weblnWallet', () => {
  it('enables once, then pays with sendPayment', async () => {
    const { p, calls } = provider();
    const w = weblnWallet(p);
    expect(await w.payInvoice('lnbcrt1')).toEqual({ preimage: 'aa'.repeat(32), feeMsat: null });
    await w.payInvoice('lnbcrt2');
    expect(calls).toEqual(['enable', 'pay lnbcrt1', 'pay lnbcrt2']);
  });

  it('a refused enable is "rejected" and is asked again next time', async () => {
    let n = 0;
    const { p } = provider({
      enable: async () => {
        if (n++ === 0) throw new Error('User rejected');
      },
    });
    const w = weblnWallet(p);
    expect(await codeOf(w.payInvoice('lnbcrt1'))).toBe('rejected');
    expect((await w.payInvoice('lnbcrt1')).preimage).toBe('aa'.repeat(32));
  });

  it.each([
    [new RejectionError('nope'), 'rejected'],
    [new UnsupportedMethodError('nope'), 'unsupported'],
    [new Error('User denied the payment'), 'rejected'],
    [new Error('Insufficient balance'), 'insufficient_balance'],
    [new Error('over budget: daily limit'), 'quota_exceeded'],
    [new Error('request timed out'), 'timeout'],
    [new Error('Timeout waiting for reply'), 'timeout'],
    [new Error('no route'), 'payment_failed'],
  ])('maps %s to %s', async (err, code) => {
    const { p } = provider({
      sendPayment: async () => {
        throw err;
      },
    });
    expect(await codeOf(weblnWallet(p).payInvoice('lnbcrt1'))).toBe(code);
  });

  it('getInfo, getBalance (sats → msat), unsupported getBalance is absent', async () => {
    const w = weblnWallet(provider().p);
    expect(await w.getInfo!()).toEqual({ alias: 'alby', pubkey: '02cd', network: null, methods: ['sendPayment'] });
    expect(await w.getBalance!()).toEqual({ balanceMsat: 21_000 });
    const { p } = provider();
    delete p.getBalance;
    expect(weblnWallet(p).getBalance).toBeUndefined();
  });
});

describe('weblnWallet: optional methods', () => {
  it('lookupInvoice and signMessage exist only when the provider has them; keysend never (no preimage choice)', async () => {
    const bare = weblnWallet(provider().p);
    expect(bare.lookupInvoice).toBeUndefined();
    expect(bare.signMessage).toBeUndefined();
    expect(bare.keysend).toBeUndefined();

    const asked: unknown[] = [];
    const { p, calls } = provider({
      lookupInvoice: async (a) => {
        asked.push(a);
        return { paymentRequest: 'not-bolt11', paid: true, preimage: 'DD'.repeat(32) };
      },
      signMessage: async (m) => ({ message: m, signature: 'sig' }),
      keysend: async () => ({ preimage: 'EE'.repeat(32) }),
    });
    const w = weblnWallet(p);
    expect(await w.lookupInvoice!('AA'.repeat(32))).toEqual({
      type: null,
      paymentRequest: 'not-bolt11',
      paymentHash: 'aa'.repeat(32),
      paid: true,
      preimage: 'dd'.repeat(32),
      amountMsat: null,
    });
    expect(asked).toEqual([{ paymentHash: 'AA'.repeat(32) }]);
    expect(await w.signMessage!('hi')).toEqual({ message: 'hi', signature: 'sig' });
    expect(w.keysend).toBeUndefined();
    expect(calls).toEqual(['enable']);
  });

  it('maps a provider refusal of signMessage to a WalletError', async () => {
    const { p } = provider({
      signMessage: async () => {
        throw new UnsupportedMethodError('nope');
      },
    });
    expect(await codeOf(weblnWallet(p).signMessage!('hi'))).toBe('unsupported');
  });
});

describe('payInvoiceWallet / toWallet', () => {
  it('wraps a { payInvoice } object and normalises its errors', async () => {
    const w = payInvoiceWallet({
      payInvoice: async () => {
        throw new Error('user rejected');
      },
    });
    expect(await codeOf(w.payInvoice('x'))).toBe('rejected');
    const ok = payInvoiceWallet({ payInvoice: async () => ({ preimage: 'BB'.repeat(32) }) });
    expect(await ok.payInvoice('x')).toEqual({ preimage: 'bb'.repeat(32), feeMsat: null });
  });

  it('picks payInvoice first, then sendPayment, else throws', async () => {
    const { p, calls } = provider();
    await toWallet(p).payInvoice('lnbcrt9');
    expect(calls).toEqual(['enable', 'pay lnbcrt9']);
    class Payer {
      secret = 'CC'.repeat(32);
      async payInvoice() {
        return { preimage: this.secret };
      }
    }
    expect((await toWallet(new Payer()).payInvoice('x')).preimage).toBe('cc'.repeat(32));
    expect(() => toWallet({} as never)).toThrow(TypeError);
  });

  it('weblnError keeps WalletErrors as they are', () => {
    const e = new WalletError('timeout', 't');
    expect(weblnError(e, 'm', 'internal')).toBe(e);
  });
});
