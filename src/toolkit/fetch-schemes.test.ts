import { describe, expect, it } from 'vitest';
import { parsePaymentCredential, parsePaymentReceipt, parseX402PaymentSignature } from '../l402/index.ts';
import { type ChallengeInfo, wrapFetch } from './fetch-with-l402.ts';
import { L402FetchError } from './errors.ts';
import { createTestServer, createTestWallet } from '../../test/support/l402-test-server.ts';
import { memoryTokenStore } from './token-store.ts';

const URL_A = 'https://api.test/v1/similarity';

function setup(serverOpts: Parameters<typeof createTestServer>[0]) {
  const server = createTestServer(serverOpts);
  const wallet = createTestWallet(server);
  const store = memoryTokenStore();
  const asked: ChallengeInfo[] = [];
  const f = wrapFetch(server.fetch, {
    wallet,
    tokenStore: store,
    onChallenge: (i) => {
      asked.push(i);
      return true;
    },
  });
  return { server, wallet, store, f, asked };
}

describe('wrapFetch: the Payment scheme (Lightning charge)', () => {
  it('pays the charge, answers with the echoed challenge and the preimage, and gets a Payment-Receipt', async () => {
    const { server, wallet, store, f, asked } = setup({ schemes: ['payment'] });
    const res = await f(URL_A);
    expect(res.status).toBe(200);
    expect(parsePaymentReceipt(res.headers.get('payment-receipt')!).status).toBe('success');
    expect(wallet.paid).toHaveLength(1);
    const cred = parsePaymentCredential(server.seen[1]!.authorization!);
    expect(cred.challenge.intent).toBe('charge');
    expect(cred.payload.preimage).toMatch(/^[0-9a-f]{64}$/);
    expect(asked.map((a) => [a.scheme, a.reusable])).toEqual([['payment', false]]);
    expect(await store.list('https://api.test')).toEqual([]); // a one-time charge is never stored
  });

  it('pays once per request: a second call pays a new charge', async () => {
    const { wallet, f } = setup({ schemes: ['payment'] });
    await f(URL_A);
    await f(URL_A);
    expect(wallet.paid).toHaveLength(2);
    expect(new Set(wallet.paid).size).toBe(2);
  });

  it('a server refusing the paid charge is retry_failed after one payment', async () => {
    const { wallet, f } = setup({ schemes: ['payment'], alwaysChallenge: true });
    await expect(f(URL_A)).rejects.toMatchObject({ code: 'retry_failed' });
    expect(wallet.paid).toHaveLength(1);
  });

  it('refuses a charge above maxAmountSat without paying', async () => {
    const server = createTestServer({ schemes: ['payment'], chargePriceSat: 50 });
    const wallet = createTestWallet(server);
    const e = await wrapFetch(server.fetch, { wallet, maxAmountSat: 10 })(URL_A).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(L402FetchError);
    expect((e as L402FetchError).code).toBe('over_limit');
    expect(wallet.paid).toHaveLength(0);
  });
});

describe('wrapFetch: x402 Lightning', () => {
  it('pays the Lightning offer (not the USDC one) and sends PAYMENT-SIGNATURE naming the paid invoice', async () => {
    const { server, wallet, f, asked } = setup({ schemes: ['x402'] });
    const res = await f(URL_A);
    expect(res.status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
    const sig = parseX402PaymentSignature(server.seen[1]!.headers.get('payment-signature')!);
    expect(sig.payload.invoice).toBe(wallet.paid[0]);
    expect(sig.accepted.extra?.paymentMethod).toBe('lightning');
    expect(asked[0]?.scheme).toBe('x402');
  });
});

describe('wrapFetch: choosing among schemes', () => {
  it('Aperture-style l402+mpp: pays the L402 token, not the charge, and reuses it', async () => {
    const { wallet, f, asked } = setup({
      schemes: ['l402', 'payment', 'x402'],
      priceSat: 20,
      chargePriceSat: 5,
      x402PriceSat: 4,
    });
    expect((await f(URL_A)).status).toBe(200);
    expect((await f(URL_A)).status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
    expect(asked.map((a) => a.scheme)).toEqual(['l402']);
  });

  it('without L402: the cheapest one-time option, and only that one', async () => {
    const { wallet, f, asked } = setup({ schemes: ['payment', 'x402'], chargePriceSat: 5, x402PriceSat: 4 });
    expect((await f(URL_A)).status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
    expect(asked.map((a) => [a.scheme, a.amountSat])).toEqual([['x402', 4]]);
  });
});

describe('wrapFetch: 401 re-challenge (bLIP-0026)', () => {
  it('a 401 carrying a fresh challenge is paid like a 402 once the held token is dropped: no extra plain request', async () => {
    const { server, wallet, store, f } = setup({ rejectWith401: true, challengeOn401: true });
    await f(URL_A);
    const [old] = await store.list('https://api.test');
    server.revoke(old!.paymentHash);
    expect((await f(URL_A)).status).toBe(200);
    const oldAuth = server.seen[1]!.authorization;
    expect(server.seen.slice(2).map((s) => s.authorization === oldAuth)).toEqual([true, false]);
    expect(server.seen).toHaveLength(4); // held token → 401 + challenge → paid retry
    expect(wallet.paid).toHaveLength(2);
    expect((await store.list('https://api.test')).map((t) => t.paymentHash)).not.toContain(old!.paymentHash);
  });

  it('a 401 with no held token sent is returned as is', async () => {
    const server = createTestServer({
      challenge: () => new Response('who are you', { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } }),
    });
    const wallet = createTestWallet(server);
    const res = await wrapFetch(server.fetch, { wallet })(URL_A);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('who are you');
    expect(wallet.paid).toHaveLength(0);
  });
});
