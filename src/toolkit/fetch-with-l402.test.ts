import { describe, expect, it } from 'vitest';
import { decodeInvoice, decodeMacaroon, isL402Error } from '../l402/index.ts';
import { WalletError } from '../wallet/wallet.ts';
import { L402FetchError } from './errors.ts';
import { fetchWithL402, wrapFetch } from './fetch-with-l402.ts';
import { createTestServer, createTestWallet, makeInvoice } from '../../test/support/l402-test-server.ts';
import type { PaymentLookup } from '../wallet/wallet.ts';
import { localStorageTokenStore, memoryTokenStore, type StorageLike } from './token-store.ts';

const URL_PAIR = 'https://api.test/v1/similarity';

async function rejection(p: Promise<unknown>): Promise<L402FetchError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof L402FetchError) return e;
    throw e;
  }
  throw new Error('expected an L402FetchError');
}

function setup(serverOpts: Parameters<typeof createTestServer>[0] = {}, walletOpts = {}) {
  const server = createTestServer(serverOpts);
  const wallet = createTestWallet(server, walletOpts);
  const store = memoryTokenStore();
  return { server, wallet, store };
}

describe('wrapFetch: paying a 402', () => {
  it('pays a valid challenge once, retries with the L402 credential and returns the 200', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const res = await f(URL_PAIR);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, path: '/v1/similarity' });
    expect(wallet.paid).toHaveLength(1);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[0]?.authorization).toBeNull();
    expect(server.seen[1]?.authorization).toMatch(/^L402 [A-Za-z0-9+/=]+:[0-9a-f]{64}$/);
  });

  it('reuses the cached token: a second call pays nothing and sends one request', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f(URL_PAIR);
    const res = await f(`${URL_PAIR}?again=1`);
    expect(res.status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
    expect(server.seen).toHaveLength(3);
    expect(server.seen[2]?.authorization).toBe(server.seen[1]?.authorization);
  });

  it('never attaches a token to another origin', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f('https://api.test/v1/similarity');
    await f('https://other.test/v1/similarity');
    expect(server.seen[2]?.authorization).toBeNull();
    expect(wallet.paid).toHaveLength(2);
  });

  it('a token without a path caveat covers its whole origin: a second path is served without paying again', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f('https://api.test/v1/similarity');
    expect((await store.list('https://api.test')).map((t) => t.pathPrefix)).toEqual(['/']);
    const res = await f('https://api.test/v2/other');
    expect(res.status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
    expect(server.challenges).toBe(1);
    // sent up front: one request per later call, no payment
    expect(server.seen[2]?.authorization).toBe(server.seen[1]?.authorization);
    expect((await f('https://api.test/v2/more')).status).toBe(200);
    expect(server.seen).toHaveLength(4);
    expect(wallet.paid).toHaveLength(1);
  });

  it('a token with a path caveat is not sent outside it: another path pays for its own token', async () => {
    const { server, wallet, store } = setup({ pathPrefixFor: (path) => `/${path.split('/')[1]}` });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f('https://api.test/v1/similarity');
    expect((await f('https://api.test/v2/other')).status).toBe(200);
    expect(server.seen[2]?.authorization).toBeNull();
    expect(wallet.paid).toHaveLength(2);
    expect((await store.list('https://api.test')).map((t) => t.pathPrefix).sort()).toEqual(['/v1', '/v2']);
    // each scope's token is sent up front within it, and nothing more is paid
    expect((await f('https://api.test/v1/more')).status).toBe(200);
    expect((await f('https://api.test/v2')).status).toBe(200);
    expect(server.seen.slice(-2).map((r) => r.authorization)).toEqual([
      server.seen[1]?.authorization,
      server.seen[3]?.authorization,
    ]);
    expect(wallet.paid).toHaveLength(2);
    // "/v1" does not cover "/v10": segment-wise, as the core's pathInScope
    expect((await f('https://api.test/v10/x')).status).toBe(200);
    expect(server.seen.at(-2)?.authorization).toBeNull();
    expect(wallet.paid).toHaveLength(3);
  });

  it('never buys a token scoped away from the request that got the challenge', async () => {
    const { server, wallet, store } = setup({ pathPrefixFor: () => '/admin' });
    const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })('https://api.test/v1/similarity'));
    expect(e.code).toBe('invalid_challenge');
    expect(isL402Error(e.cause, 'caveat_failed')).toBe(true);
    expect(e.message).toContain('for /admin, not for /v1/similarity');
    expect(wallet.paid).toHaveLength(0);
    expect(await store.list('https://api.test')).toEqual([]);
  });

  it('when the held token is refused on another path, drops it and pays the new challenge', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f('https://api.test/v1/similarity');
    const [first] = await store.list('https://api.test');
    server.revoke(first!.paymentHash); // stands in for "not valid on this path", which its caveats did not say
    expect((await f('https://api.test/v2/other')).status).toBe(200);
    expect(server.seen[2]?.authorization).toBe(server.seen[1]?.authorization);
    expect(wallet.paid).toHaveLength(2);
    const tokens = await store.list('https://api.test');
    expect(tokens.map((t) => [t.pathPrefix, t.paymentHash === first!.paymentHash])).toEqual([['/', false]]);
  });

  it('resends a JSON body and the caller headers on the retry', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const body = JSON.stringify({ a: [1, 2], b: [3, 4] });
    const init: RequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-app': 'demo' },
      body,
    };
    const res = await f(URL_PAIR, init);
    expect(res.status).toBe(200);
    for (const s of server.seen) {
      expect(s.method).toBe('POST');
      expect(s.body).toBe(body);
      expect(s.headers.get('x-app')).toBe('demo');
      expect(s.headers.get('content-type')).toBe('application/json');
    }
    expect(init.headers).toEqual({ 'content-type': 'application/json', 'x-app': 'demo' });
  });

  it('resends a FormData body with the same multipart boundary', async () => {
    const { server, wallet, store } = setup();
    const form = new FormData();
    form.append('name', 'vectors');
    form.append('file', new Blob(['1,2,3'], { type: 'text/csv' }), 'v.csv');
    await wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR, { method: 'POST', body: form });
    const [first, retry] = server.seen;
    expect(retry?.body).toBe(first?.body);
    expect(retry?.headers.get('content-type')).toBe(first?.headers.get('content-type'));
    const parsed = await new Request('https://x.test', {
      method: 'POST',
      body: retry!.body,
      headers: { 'content-type': retry!.headers.get('content-type')! },
    }).formData();
    expect(parsed.get('name')).toBe('vectors');
    expect(await (parsed.get('file') as File).text()).toBe('1,2,3');
  });

  it('buffers a ReadableStream body once so the retry sends the same bytes', async () => {
    const { server, wallet, store } = setup();
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        if (pulls <= 3) c.enqueue(new TextEncoder().encode(`chunk${pulls};`));
        else c.close();
      },
    });
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit;
    const res = await wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR, init);
    expect(res.status).toBe(200);
    expect(server.seen.map((s) => s.body)).toEqual(['chunk1;chunk2;chunk3;', 'chunk1;chunk2;chunk3;']);
  });

  it('resends a Blob body with its type', async () => {
    const { server, wallet, store } = setup();
    await wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR, {
      method: 'PUT',
      body: new Blob(['abc'], { type: 'text/plain' }),
    });
    expect(server.seen.map((s) => [s.method, s.body, s.headers.get('content-type')])).toEqual([
      ['PUT', 'abc', 'text/plain'],
      ['PUT', 'abc', 'text/plain'],
    ]);
  });

  it("never mutates the caller's Request: body still readable, no Authorization added", async () => {
    const { server, wallet, store } = setup();
    const req = new Request(URL_PAIR, { method: 'POST', body: '{"a":[1],"b":[1]}', headers: { 'x-k': 'v' } });
    const res = await wrapFetch(server.fetch, { wallet, tokenStore: store })(req);
    expect(res.status).toBe(200);
    expect(req.bodyUsed).toBe(false);
    expect(req.headers.has('authorization')).toBe(false);
    expect(await req.text()).toBe('{"a":[1],"b":[1]}');
    expect(server.seen[1]?.body).toBe('{"a":[1],"b":[1]}');
    expect(server.seen[1]?.headers.get('x-k')).toBe('v');
  });

  it('calls fetch as a plain function, as window.fetch requires (no "Illegal invocation")', async () => {
    const { server, wallet, store } = setup();
    const strictFetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined) throw new TypeError('Illegal invocation');
      return server.fetch(input, init);
    } as typeof fetch;
    expect((await wrapFetch(strictFetch, { wallet, tokenStore: store })(URL_PAIR)).status).toBe(200);
    expect((await fetchWithL402(URL_PAIR, undefined, { wallet, fetch: strictFetch })).status).toBe(200);
  });

  it('fetchWithL402 shares its default store between calls', async () => {
    const { server, wallet } = setup();
    const opts = { wallet, fetch: server.fetch };
    expect((await fetchWithL402('https://shared.test/x', undefined, opts)).status).toBe(200);
    expect((await fetchWithL402('https://shared.test/y', undefined, opts)).status).toBe(200);
    expect(wallet.paid).toHaveLength(1);
  });
});

describe('wrapFetch: tokens over time', () => {
  it('stops using a token after its valid_until caveat and pays again', async () => {
    let nowMs = 1_800_000_000_000;
    const now = () => nowMs;
    const { server, wallet, store } = setup({ now, validForSeconds: 60 });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store, now });
    await f(URL_PAIR);
    const [bought] = await store.list('https://api.test');
    expect(bought?.validUntil).toBe(1_800_000_060_000); // unix ms, from `similarity_valid_until=1800000060`
    expect(bought?.createdAt).toBe(1_800_000_000_000);
    nowMs += 30_000;
    await f(URL_PAIR);
    expect(wallet.paid).toHaveLength(1);
    nowMs += 60_000; // past valid_until: the token is dropped before sending, not sent to be refused
    const seenBefore = server.seen.length;
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(server.seen[seenBefore]?.authorization).toBeNull();
    expect(wallet.paid).toHaveLength(2);
    expect(await store.list('https://api.test')).toHaveLength(1);
  });

  it('refuses a challenge whose token is already expired', async () => {
    const { server, wallet, store } = setup({ validForSeconds: -1 });
    const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR));
    expect(e.code).toBe('invalid_challenge');
    expect(isL402Error(e.cause, 'caveat_failed')).toBe(true);
    expect(wallet.paid).toHaveLength(0);
  });

  it('drops a token the server revoked (402) and pays the new challenge', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f(URL_PAIR);
    const [old] = await store.list('https://api.test');
    server.revoke(old!.paymentHash);
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(wallet.paid).toHaveLength(2);
    const tokens = await store.list('https://api.test');
    expect(tokens.map((t) => t.paymentHash)).not.toContain(old!.paymentHash);
    expect(tokens).toHaveLength(1);
  });

  it('a token the server refuses for a deeper path is dropped; the new one serves both paths', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f('https://api.test/v1/similarity');
    const [pair] = await store.list('https://api.test');
    server.revoke(pair!.paymentHash); // stands in for "this token lacks the batch capability"
    expect((await f('https://api.test/v1/similarity/batch')).status).toBe(200);
    const tokens = await store.list('https://api.test');
    expect(tokens.map((t) => t.pathPrefix)).toEqual(['/']);
    expect(tokens[0]?.paymentHash).not.toBe(pair!.paymentHash);
    expect((await f('https://api.test/v1/similarity')).status).toBe(200);
    expect(wallet.paid).toHaveLength(2);
  });

  it('handles a 401 for a stored token: evicts it, asks again without it, pays the 402', async () => {
    const { server, wallet, store } = setup({ rejectWith401: true });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    await f(URL_PAIR);
    const [old] = await store.list('https://api.test');
    server.revoke(old!.paymentHash);
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(server.seen.slice(2).map((s) => s.authorization === null)).toEqual([false, true, false]);
    expect(wallet.paid).toHaveLength(2);
  });
});

describe('wrapFetch: refusing to pay', () => {
  it('refuses an invoice above maxAmountSat without calling the wallet', async () => {
    const { server, wallet, store } = setup({ priceSat: 21 });
    const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store, maxAmountSat: 20 })(URL_PAIR));
    expect(e.code).toBe('over_limit');
    expect(e.amountSat).toBe(21);
    expect(wallet.paid).toHaveLength(0);
  });

  it('pays exactly maxAmountSat', async () => {
    const { server, wallet, store } = setup({ priceSat: 20 });
    expect((await wrapFetch(server.fetch, { wallet, tokenStore: store, maxAmountSat: 20 })(URL_PAIR)).status).toBe(200);
  });

  it('asks onChallenge with the decoded invoice and honours a refusal', async () => {
    const { server, wallet, store } = setup({ priceSat: 7 });
    const asked: unknown[] = [];
    const f = wrapFetch(server.fetch, {
      wallet,
      tokenStore: store,
      onChallenge: async (info) => {
        asked.push(info);
        return false;
      },
    });
    const e = await rejection(f(URL_PAIR));
    expect(e.code).toBe('refused');
    expect(wallet.paid).toHaveLength(0);
    expect(asked[0]).toMatchObject({ amountSat: 7, amountMsat: 7000, origin: 'https://api.test', network: 'regtest' });
  });

  it('pays when onChallenge confirms', async () => {
    const { server, wallet, store } = setup();
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store, onChallenge: () => true });
    expect((await f(URL_PAIR)).status).toBe(200);
  });

  it('a wrong preimage from the wallet is bad_preimage, nothing is cached and no retry is sent', async () => {
    const { server, wallet, store } = setup({}, { wrongPreimage: 'ab'.repeat(32) });
    const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR));
    expect(e.code).toBe('bad_preimage');
    expect(await store.list('https://api.test')).toEqual([]);
    expect(server.seen).toHaveLength(1);
  });

  it('a server that 402s every retry: one payment, retry_failed, token evicted', async () => {
    const { server, wallet, store } = setup({ alwaysChallenge: true });
    const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR));
    expect(e.code).toBe('retry_failed');
    expect(e.response?.status).toBe(402);
    expect(wallet.paid).toHaveLength(1);
    expect(server.seen).toHaveLength(2);
    expect(await store.list('https://api.test')).toEqual([]);
  });

  it('never pays the same payment hash twice (a server replaying one invoice)', async () => {
    const { server, wallet, store } = setup({ fixedChallenge: true, alwaysChallenge: true });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    expect((await rejection(f(URL_PAIR))).code).toBe('retry_failed');
    const e = await rejection(f(URL_PAIR));
    expect(e.code).toBe('already_paid');
    expect(wallet.paid).toHaveLength(1);
  });

  it('maps wallet failures: rejected → refused, timeout → payment_unknown, others → payment_failed', async () => {
    for (const [walletCode, code] of [
      ['rejected', 'refused'],
      ['timeout', 'payment_unknown'],
      ['insufficient_balance', 'payment_failed'],
    ] as const) {
      const fail = new WalletError(walletCode, 'no');
      const { server, wallet, store } = setup({}, { fail });
      const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR));
      expect(e.code).toBe(code);
      expect((e.cause as WalletError).code).toBe(walletCode);
    }
  });

  it('a 402 it cannot pay is unsupported_challenge naming what was asked', async () => {
    const usdc = btoa(
      JSON.stringify({
        x402Version: 2,
        accepts: [{ scheme: 'exact', network: 'eip155:8453', amount: '1', asset: 'USDC' }],
      }),
    );
    const cases: [() => Response, string][] = [
      [() => new Response(null, { status: 402, headers: { 'payment-required': 'eyJ4NDAyVmVyc2lvbiI6MX0=' } }), 'x402'],
      [
        () => new Response(null, { status: 402, headers: { 'payment-required': usdc } }),
        'x402 exact on eip155:8453 (USDC)',
      ],
      [() => Response.json({ x402Version: 1, accepts: [] }, { status: 402 }), 'x402 (v1, in the body)'],
      [
        () =>
          new Response(null, { status: 402, headers: { 'www-authenticate': 'Payment id="1", method="lightning"' } }),
        'Payment',
      ],
    ];
    for (const [challenge, name] of cases) {
      const { server, wallet, store } = setup({ challenge });
      const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR));
      expect(e.code).toBe('unsupported_challenge');
      expect(e.message).toContain(name);
      expect(e.demand?.options).toEqual([]);
      expect(wallet.paid).toHaveLength(0);
    }
  });

  it('returns a 402 with no payment challenge at all unchanged', async () => {
    const { server, wallet, store } = setup({ challenge: () => new Response('pay me somehow', { status: 402 }) });
    const res = await wrapFetch(server.fetch, { wallet, tokenStore: store })(URL_PAIR);
    expect(res.status).toBe(402);
    expect(await res.text()).toBe('pay me somehow');
  });

  it('refuses invalid challenges with the core code in cause: hash mismatch, wrong network, expired, malformed', async () => {
    const otherInvoice = makeInvoice({
      paymentHash: 'cd'.repeat(32),
      amountSat: 10,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const cases: [Parameters<typeof createTestServer>[0], object, string][] = [
      [{ mutate: (c) => ({ ...c, invoice: otherInvoice }) }, {}, 'hash_mismatch'],
      [{}, { networks: ['mainnet'] }, 'wrong_network'],
      [{ invoiceExpirySeconds: 1, now: () => Date.now() - 10_000 }, {}, 'invoice_expired'],
      [
        {
          mutate: (c) => ({
            ...c,
            invoice: makeInvoice({ paymentHash: '00'.repeat(32), amountSat: null, timestamp: 1 }),
          }),
        },
        {},
        'hash_mismatch',
      ],
    ];
    for (const [serverOpts, fetchOpts, cause] of cases) {
      const { server, wallet, store } = setup(serverOpts);
      const e = await rejection(wrapFetch(server.fetch, { wallet, tokenStore: store, ...fetchOpts })(URL_PAIR));
      expect(e.code).toBe('invalid_challenge');
      expect(isL402Error(e.cause) && e.cause.code).toBe(cause);
      expect(wallet.paid).toHaveLength(0);
    }
  });

  it('refuses a zero-amount invoice (amount_missing) and a malformed L402 header', async () => {
    const zero = setup({
      mutate: (c) => ({
        ...c,
        invoice: makeInvoice({ paymentHash: hashOfMacaroon(c.macaroon), amountSat: null, timestamp: now() }),
      }),
    });
    const e1 = await rejection(wrapFetch(zero.server.fetch, { wallet: zero.wallet, tokenStore: zero.store })(URL_PAIR));
    expect(isL402Error(e1.cause, 'amount_missing')).toBe(true);
    const bad = setup({
      challenge: () => new Response(null, { status: 402, headers: { 'www-authenticate': 'L402 invoice="lnbc1"' } }),
    });
    const e2 = await rejection(wrapFetch(bad.server.fetch, { wallet: bad.wallet, tokenStore: bad.store })(URL_PAIR));
    expect(e2.code).toBe('invalid_challenge');
    expect(e2.demand?.unsupported.map((u) => u.scheme)).toEqual(['l402']);
  });
});

describe('wrapFetch: concurrency', () => {
  it('concurrent calls for one service share one payment', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { server, wallet, store } = setup({}, { gate });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const calls = Array.from({ length: 6 }, (_, i) => f(`${URL_PAIR}?i=${i}`, { method: 'POST', body: `{"i":${i}}` }));
    // Let every call reach its 402 before the single payment completes.
    while (server.challenges < 6) await new Promise((r) => setTimeout(r, 1));
    open();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(wallet.paid).toHaveLength(1);
    const retries = server.seen.filter((s) => s.authorization !== null);
    expect(new Set(retries.map((s) => s.authorization)).size).toBe(1);
    expect(retries.map((s) => s.body).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `{"i":${i}}`));
  });

  it('concurrent calls to different paths of one service share one origin-wide token', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { server, wallet, store } = setup({}, { gate });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const calls = ['/v1/similarity', '/v1/similarity/batch', '/v2/other'].map((p) => f(`https://api.test${p}`));
    while (server.challenges < 3) await new Promise((r) => setTimeout(r, 1));
    open();
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(wallet.paid).toHaveLength(1);
  });

  it('concurrent calls to paths of different path scopes each pay for their own', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { server, wallet, store } = setup({ pathPrefixFor: (path) => `/${path.split('/')[1]}` }, { gate });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const calls = ['/v1/a', '/v2/b', '/v1/c'].map((p) => f(`https://api.test${p}`));
    while (server.challenges < 3) await new Promise((r) => setTimeout(r, 1));
    open();
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(wallet.paid).toHaveLength(2);
    expect((await store.list('https://api.test')).map((t) => t.pathPrefix).sort()).toEqual(['/v1', '/v2']);
  });

  it('a call starting while a payment is in flight waits for it instead of paying', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { server, wallet, store } = setup({}, { gate });
    const f = wrapFetch(server.fetch, { wallet, tokenStore: store });
    const first = f(URL_PAIR);
    while (wallet.paid.length === 0) await new Promise((r) => setTimeout(r, 1));
    const second = f(URL_PAIR);
    open();
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
    expect(wallet.paid).toHaveLength(1);
    expect(server.challenges).toBe(1);
  });
});

describe('wallet kinds', () => {
  it('pays through a WebLN provider, enabling it once', async () => {
    const server = createTestServer();
    const inner = createTestWallet(server);
    let enables = 0;
    const provider = {
      enable: async () => {
        enables++;
      },
      getInfo: async () => ({ node: { alias: 'x', pubkey: 'y' }, version: '1', supports: ['lightning'], methods: [] }),
      makeInvoice: async () => ({ paymentRequest: '' }),
      sendPayment: async (pr: string) => ({ preimage: (await inner.payInvoice(pr)).preimage }),
    };
    const f = wrapFetch(server.fetch, { wallet: provider, tokenStore: memoryTokenStore() });
    await f('https://a.test/x');
    await f('https://b.test/x');
    expect(inner.paid).toHaveLength(2);
    expect(enables).toBe(1);
  });
});

describe('wrapFetch: an open payment is resolved before its scope is paid again', () => {
  /** A wallet whose first payment times out (outcome unknown); lookups answer what `state` says then. */
  function timingOutWallet(server: { preimages: Map<string, string> }, o: { lookup?: boolean } = {}) {
    const paid: string[] = [];
    const lookups: string[] = [];
    let state: 'pending' | 'succeeded' | 'failed' = 'pending';
    const wallet = {
      async payInvoice(invoice: string) {
        paid.push(invoice);
        if (paid.length === 1) throw new WalletError('timeout', 'the wallet did not answer in time');
        const preimage = server.preimages.get(decodeInvoice(invoice).paymentHash) as string;
        return { preimage, feeMsat: 0 };
      },
      ...(o.lookup === false
        ? {}
        : {
            async lookupPayment(hash: string): Promise<PaymentLookup> {
              lookups.push(hash);
              if (state === 'succeeded') return { state, preimage: server.preimages.get(hash) as string, feeMsat: 0 };
              return state === 'failed' ? { state, reason: 'no route' } : { state };
            },
          }),
    };
    return { wallet, paid, lookups, settle: (s: typeof state) => (state = s) };
  }
  const mapStorage = (): StorageLike => {
    const map = new Map<string, string>();
    return {
      getItem: (k) => map.get(k) ?? null,
      setItem: (k, v) => void map.set(k, v),
      removeItem: (k) => void map.delete(k),
    };
  };

  it('a live wallet timeout: the next call (a new invoice) is payment_unknown, nothing paid; once it succeeded, its token serves', async () => {
    const server = createTestServer();
    const w = timingOutWallet(server);
    const f = wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: memoryTokenStore() });
    expect((await rejection(f(URL_PAIR))).code).toBe('payment_unknown');
    const firstHash = decodeInvoice(w.paid[0] as string).paymentHash;
    const again = await rejection(f(URL_PAIR));
    expect(again.code).toBe('payment_unknown');
    expect(again.paymentHash).toBe(firstHash);
    expect(w.paid).toHaveLength(1);
    expect(w.lookups).toEqual([firstHash]);
    w.settle('succeeded');
    const res = await f(URL_PAIR);
    expect(res.status).toBe(200);
    expect(w.paid).toHaveLength(1);
    expect(hashOfMacaroon(parseAuthorizationHeader(server.seen.at(-1)?.authorization))).toBe(firstHash);
    // Settled: later calls reuse the token without asking the wallet again.
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(w.lookups).toHaveLength(2);
  });

  it('persisted: a reload (a new wrapper over the same localStorage) sees the open payment and pays nothing', async () => {
    const server = createTestServer();
    const storage = mapStorage();
    const w = timingOutWallet(server);
    expect(
      (
        await rejection(
          wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: localStorageTokenStore(storage) })(URL_PAIR),
        )
      ).code,
    ).toBe('payment_unknown');
    const reloaded = wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: localStorageTokenStore(storage) });
    expect((await rejection(reloaded(URL_PAIR))).code).toBe('payment_unknown');
    // The token being bought covers the whole origin, so every path of it waits too; another origin does not.
    expect((await rejection(reloaded('https://api.test/v2/other'))).code).toBe('payment_unknown');
    expect((await reloaded('https://other.test/v2/other')).status).toBe(200);
    expect(w.paid).toHaveLength(2);
    w.settle('succeeded');
    expect(
      (await wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: localStorageTokenStore(storage) })(URL_PAIR))
        .status,
    ).toBe(200);
    expect(w.paid).toHaveLength(2);
  });

  it('a wallet that cannot look payments up: payment_unknown until the app drops the open payment', async () => {
    const server = createTestServer();
    const store = memoryTokenStore();
    const w = timingOutWallet(server, { lookup: false });
    const f = wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: store });
    await rejection(f(URL_PAIR));
    expect((await rejection(f(URL_PAIR))).code).toBe('payment_unknown');
    expect(w.paid).toHaveLength(1);
    const [open] = (await store.listPending?.('https://api.test')) ?? [];
    await store.removePending?.('https://api.test', open?.paymentHash as string);
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(w.paid).toHaveLength(2);
  });

  it('looked up as failed: forgotten, and the new invoice is paid', async () => {
    const server = createTestServer();
    const store = memoryTokenStore();
    const w = timingOutWallet(server);
    const f = wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: store });
    await rejection(f(URL_PAIR));
    w.settle('failed');
    expect((await f(URL_PAIR)).status).toBe(200);
    expect(w.paid).toHaveLength(2);
    expect(await store.listPending?.('https://api.test')).toEqual([]);
  });

  it('a definite failure or a success leaves no open payment behind', async () => {
    const { server, store } = setup();
    await rejection(
      wrapFetch(server.fetch, {
        wallet: createTestWallet(server, { fail: new WalletError('payment_failed', 'no') }),
        tokenStore: store,
      })(URL_PAIR),
    );
    expect(await store.listPending?.('https://api.test')).toEqual([]);
    expect(
      (await wrapFetch(server.fetch, { wallet: createTestWallet(server), tokenStore: store })(URL_PAIR)).status,
    ).toBe(200);
    expect(await store.listPending?.('https://api.test')).toEqual([]);
  });

  it('a custom store without pending records still never pays a second invoice in this realm', async () => {
    const server = createTestServer();
    const inner = memoryTokenStore();
    const store = { list: inner.list, put: inner.put, remove: inner.remove };
    const w = timingOutWallet(server);
    const f = wrapFetch(server.fetch, { wallet: w.wallet, tokenStore: store });
    await rejection(f(URL_PAIR));
    expect((await rejection(f(URL_PAIR))).code).toBe('payment_unknown');
    expect(w.paid).toHaveLength(1);
  });
});

function parseAuthorizationHeader(h: string | null | undefined): string {
  const m = /^L402 ([^:]+):/.exec(h ?? '');
  if (!m?.[1]) throw new Error(`not an L402 authorization: ${h}`);
  return m[1];
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function hashOfMacaroon(macaroon: string): string {
  return decodeMacaroon(macaroon).paymentHash;
}
