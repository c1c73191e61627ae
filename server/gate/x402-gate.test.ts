import { describe, expect, it } from 'vitest';
import {
  bytesToBase64,
  chooseOption,
  decodeInvoice,
  formatX402PaymentSignature,
  isX402Lightning,
  parseL402Challenge,
  parseX402PaymentRequired,
  parseWwwAuthenticate,
  readPaymentDemand,
  type X402LightningRequirements,
  type X402PaymentRequired,
} from '../../src/l402/index.ts';
import { BASE, buyToken, fixture, PAIR, post, wrongPreimage } from '../../test/support/server-fixtures.ts';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { BackendUnavailableError } from '../lightning/backend.ts';
import { silentLogger } from '../log.ts';
import { StoreUnavailableError } from '../tokens/shared-store.ts';

const REGTEST = 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328';
type F = ReturnType<typeof fixture>;
const json64 = (v: unknown) => bytesToBase64(new TextEncoder().encode(JSON.stringify(v)));
const decode64 = (s: string) => JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as Record<string, unknown>;
const rejectedCode = async (r: Response) => ((await r.json()) as { rejected?: { code: string } }).rejected?.code;

/** A 402's x402 offer (the one Lightning entry), paid with the dev wallet unless `pay` is false. */
async function buyOffer(
  f: F,
  o: { path?: string; body?: unknown; pay?: boolean } = {},
): Promise<{ offer: X402LightningRequirements; required: X402PaymentRequired; signature: string }> {
  const res = await post(f.app, o.path ?? '/v1/similarity', o.body ?? PAIR);
  expect(res.status).toBe(402);
  const required = parseX402PaymentRequired(res.headers.get('payment-required') ?? '');
  const offer = required.accepts[0]!;
  if (!isX402Lightning(offer)) throw new Error('no Lightning offer');
  if (o.pay !== false) await f.wallet.pay(offer.extra.invoice);
  return { offer, required, signature: formatX402PaymentSignature(offer, required.resource) };
}

describe('AUTH_SCHEMES=x402: the offer', () => {
  it('a PAYMENT-REQUIRED x402 v2 Lightning exact offer of the route price, and no WWW-Authenticate', async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(402);
    expect(res.headers.get('www-authenticate')).toBeNull();
    const required = parseX402PaymentRequired(res.headers.get('payment-required')!);
    expect(required).toMatchObject({
      x402Version: 2,
      resource: { url: `${BASE}/v1/similarity`, mimeType: 'application/json' },
      accepts: [
        {
          scheme: 'exact',
          network: REGTEST,
          amount: '10000',
          asset: 'BTC',
          payTo: 'anonymous',
          maxTimeoutSeconds: 600,
          extra: { paymentMethod: 'lightning' },
        },
      ],
    });
    const offer = required.accepts[0]!;
    expect(isX402Lightning(offer)).toBe(true);
    expect(decodeInvoice(String(offer.extra?.invoice)).amountMsat).toBe(10_000);
    // What our own client core makes of it: one payable x402 option, chosen.
    const { chosen } = chooseOption(readPaymentDemand({ paymentRequired: res.headers.get('payment-required') }), {
      now: f.clock.now / 1000,
      networks: ['regtest'],
    });
    expect(chosen?.option.scheme).toBe('x402');
    expect(await res.json()).toMatchObject({ error: { code: 'payment_required' }, price_msat: 10_000 });
  });

  it('the resource is named without its query; a batch is offered at its own price', async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    const get = await f.app.fetch(new Request(`${BASE}/v1/similarity?a=1,2,3&b=2,4,6.5`));
    expect(get.status).toBe(402);
    expect(parseX402PaymentRequired(get.headers.get('payment-required')!).resource).toMatchObject({
      url: `${BASE}/v1/similarity`,
    });
    const batch = { query: [1, 0, 0], vectors: Array.from({ length: 400 }, () => [1, 2, 3]) };
    const { offer } = await buyOffer(f, { path: '/v1/similarity/batch', body: batch, pay: false });
    expect(Number(offer.amount)).toBeGreaterThan(10_000);
  });

  it('l402,x402: the L402 challenge (with its LSAT twin) and the x402 offer, each its own invoice; L402 is chosen', async () => {
    const f = fixture({ config: { authSchemes: 'l402,x402' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    const wa = res.headers.get('www-authenticate')!;
    expect(parseWwwAuthenticate(wa).map((c) => c.scheme)).toEqual(['LSAT', 'L402']);
    const pr = res.headers.get('payment-required')!;
    expect(parseX402PaymentRequired(pr).accepts[0]?.extra?.invoice).not.toBe(parseL402Challenge(wa).invoice);
    const demand = readPaymentDemand({ wwwAuthenticate: wa, paymentRequired: pr });
    expect(demand.options.map((o) => o.scheme)).toEqual(['l402', 'x402']);
    expect(chooseOption(demand, { now: f.clock.now / 1000, networks: ['regtest'] }).chosen?.option.scheme).toBe('l402');
  });

  it('l402,payment,x402: every offer in one 402; discovery and pricing name them', async () => {
    const f = fixture({ config: { authSchemes: 'l402,payment,x402' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    const demand = readPaymentDemand({
      wwwAuthenticate: res.headers.get('www-authenticate'),
      paymentRequired: res.headers.get('payment-required'),
    });
    expect(demand.options.map((o) => o.scheme)).toEqual(['l402', 'payment', 'x402']);
    expect(new Set(demand.options.map((o) => o.invoice)).size).toBe(3);
    const discovery = await (await f.app.fetch(new Request(`${BASE}/.well-known/l402.json`))).json();
    expect(discovery).toMatchObject({
      auth_schemes: ['l402', 'payment', 'x402'],
      x402: { x402_version: 2, scheme: 'exact', network: REGTEST, payment_method: 'lightning' },
    });
    const pricing = await (await f.app.fetch(new Request(`${BASE}/v1/pricing`))).json();
    expect(pricing).toMatchObject({ auth_schemes: ['l402', 'payment', 'x402'] });
  });

  it('CORS: a page on another origin may send PAYMENT-SIGNATURE and read PAYMENT-REQUIRED and PAYMENT-RESPONSE', async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    const pre = await f.app.fetch(
      new Request(`${BASE}/v1/similarity`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://page.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,payment-signature',
        },
      }),
    );
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('payment-signature');
    const res = await post(f.app, '/v1/similarity', PAIR, { origin: 'https://page.example' });
    const exposed = res.headers.get('access-control-expose-headers')?.toLowerCase() ?? '';
    expect(exposed).toContain('payment-required');
    expect(exposed).toContain('payment-response');
  });
});

describe('AUTH_SCHEMES=x402: the credential', () => {
  it('a paid offer is served once, with a PAYMENT-RESPONSE; the replay is refused with a fresh offer', async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    const { offer, signature } = await buyOffer(f);
    const ok = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { similarity: number }).similarity).toBeGreaterThan(0.99);
    expect(decode64(ok.headers.get('payment-response')!)).toMatchObject({
      success: true,
      transaction: offer.extra.invoice,
      network: REGTEST,
      extra: { invoice: offer.extra.invoice },
    });
    const again = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature });
    expect(again.status).toBe(402);
    const fresh = parseX402PaymentRequired(again.headers.get('payment-required')!);
    expect(fresh.error).toMatch(/^charge_spent/);
    expect(fresh.accepts[0]?.extra?.invoice).not.toBe(offer.extra.invoice);
    expect(await rejectedCode(again)).toBe('charge_spent');
  });

  it("accepts what @getalby/lightning-tools sends and the spec's own example shape (no top-level scheme)", async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    // lightning-tools 9 (src/402/x402/utils.ts): x402Version, scheme, network, payload, accepted; no resource.
    const a = await buyOffer(f);
    const alby = json64({
      x402Version: 2,
      scheme: a.offer.scheme,
      network: a.offer.network,
      payload: { invoice: a.offer.extra.invoice },
      accepted: a.offer,
    });
    expect((await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': alby })).status).toBe(200);
    // scheme_exact_lightning.md's "Full PaymentPayload object".
    const b = await buyOffer(f);
    const spec = json64({
      x402Version: 2,
      resource: b.required.resource,
      accepted: b.offer,
      payload: { invoice: b.offer.extra.invoice },
    });
    expect((await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': spec })).status).toBe(200);
  });

  it('refuses an unpaid offer, a forged or substituted one, another network, a batch it does not pay, an expired one', async () => {
    const f = fixture({ config: { authSchemes: 'l402,x402' } });
    const send = (v: unknown, path = '/v1/similarity', body: unknown = PAIR) =>
      post(f.app, path, body, { 'payment-signature': json64(v) });
    const unpaid = await buyOffer(f, { pay: false });
    const paid = await buyOffer(f);
    const sig = (offer: X402LightningRequirements, invoice = offer.extra.invoice) => ({
      x402Version: 2,
      accepted: offer,
      payload: { invoice },
    });
    // An L402 invoice, paid (so it is settled on the node), passed off as this x402 offer's.
    const l402Invoice = parseL402Challenge(
      (await post(f.app, '/v1/similarity', PAIR)).headers.get('www-authenticate')!,
    ).invoice;
    await f.wallet.pay(l402Invoice);
    const withInvoice = { ...paid.offer, extra: { ...paid.offer.extra, invoice: l402Invoice } };
    const cases: [string, Promise<Response>, string][] = [
      ['unpaid', send(sig(unpaid.offer)), 'charge_unpaid'],
      [
        'forged offer id',
        send(sig({ ...paid.offer, extra: { ...paid.offer.extra, offerId: 'AAAA' } })),
        'offer_invalid',
      ],
      ['substituted payload.invoice', send(sig(paid.offer, l402Invoice)), 'offer_invalid'],
      ['an L402 invoice as the offer', send(sig(withInvoice)), 'offer_invalid'],
      [
        'other network',
        send(sig({ ...paid.offer, network: 'bip122:000000000019d6689c085ae165831e93' })),
        'wrong_network',
      ],
      ['amount altered', send(sig({ ...paid.offer, amount: '1000' })), 'price_mismatch'],
      ['another scheme', send(sig({ ...paid.offer, scheme: 'upto' })), 'offer_invalid'],
      ['x402 v1', send({ ...sig(paid.offer), x402Version: 1 }), 'unsupported_version'],
      [
        'too cheap for a batch',
        send(sig(paid.offer), '/v1/similarity/batch', {
          query: [1, 0, 0],
          vectors: Array.from({ length: 400 }, () => [1, 2, 3]),
        }),
        'price_mismatch',
      ],
    ];
    for (const [name, res, code] of cases) {
      const r = await res;
      expect([name, r.status]).toEqual([name, 402]);
      // every refusal re-offers both schemes
      expect([name, !!r.headers.get('www-authenticate'), !!r.headers.get('payment-required')]).toEqual([
        name,
        true,
        true,
      ]);
      expect([name, await rejectedCode(r)]).toEqual([name, code]);
    }
    // None of the refusals spent it: the good credential still works; once its invoice expired, it is refused.
    expect((await send(sig(paid.offer))).status).toBe(200);
    f.clock.now += 601_000;
    expect(await rejectedCode(await send(sig(paid.offer)))).toBe('offer_expired');
  });

  it('an L402 token still serves in l402,x402 mode, and a refused token gets both offers', async () => {
    const f = fixture({ config: { authSchemes: 'l402,x402', invalidCredentialStatus: 401 } });
    const token = await buyToken(f);
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization: token.authorization })).status).toBe(200);
    const bad = await post(f.app, '/v1/similarity', PAIR, { authorization: wrongPreimage(token.authorization) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('payment-required')).toBeTruthy();
    const { signature } = await buyOffer(f);
    const replayed = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature });
    expect(replayed.status).toBe(200);
    expect((await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature })).status).toBe(401);
  });

  it('x402 alone answers a refused credential with 402 even under INVALID_CREDENTIAL_STATUS=401 (a 401 needs WWW-Authenticate)', async () => {
    const f = fixture({ config: { authSchemes: 'x402', invalidCredentialStatus: 401 } });
    const { signature } = await buyOffer(f);
    expect((await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature })).status).toBe(200);
    const replay = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': signature });
    expect([replay.status, replay.headers.get('www-authenticate')]).toEqual([402, null]);
    expect(await rejectedCode(replay)).toBe('charge_spent');
  });

  it('a backend on a network without a CAIP-2 id (simnet) cannot offer x402: the app refuses to start', () => {
    const f = fixture();
    const start = (authSchemes: 'x402' | 'l402') =>
      createApp({
        config: loadConfig({ overrides: { dataDir: f.dataDir, authSchemes } }),
        backend: f.dev,
        tokens: f.tokens,
        clock: () => f.clock.now,
        log: silentLogger,
        network: 'simnet',
      });
    expect(() => start('x402')).toThrow(/AUTH_SCHEMES=x402 needs a Bitcoin network with a CAIP-2 id, not simnet/);
    expect(() => start('l402')).not.toThrow();
  });

  it('garbage and over-long PAYMENT-SIGNATURE headers are a clear 400, never a 500 or a payment', async () => {
    const f = fixture({ config: { authSchemes: 'x402' } });
    const bad = [
      'not base64!!',
      json64('a string'),
      bytesToBase64(new Uint8Array([0xff, 0xfe, 0x00])),
      json64({ x402Version: 2 }),
      json64({ x402Version: 2, accepted: { scheme: 'exact' }, payload: { invoice: 'lnbcrt1' } }),
      json64({ x402Version: '2', accepted: {}, payload: {} }),
      'A'.repeat(70_000),
      '',
    ];
    for (const h of bad) {
      const r = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': h });
      expect([h.slice(0, 30), r.status]).toEqual([h.slice(0, 30), 400]);
      expect(await r.json()).toMatchObject({ error: { code: 'malformed_payment_signature' } });
    }
  });

  it('a PAYMENT-SIGNATURE is ignored when x402 is not offered (the L402 402 as usual)', async () => {
    const f = fixture({ config: { authSchemes: 'l402' } });
    const r = await post(f.app, '/v1/similarity', PAIR, { 'payment-signature': 'garbage' });
    expect(r.status).toBe(402);
    expect(r.headers.get('payment-required')).toBeNull();
  });

  it('the node or the spent store down: 503 with Retry-After, nothing redeemed', async () => {
    const down = fixture({
      config: { authSchemes: 'x402' },
      spentCharges: {
        spend: async () => {
          throw new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:5432');
        },
      },
    });
    const a = await buyOffer(down);
    const r = await post(down.app, '/v1/similarity', PAIR, { 'payment-signature': a.signature });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);

    const f = fixture({ config: { authSchemes: 'x402' } });
    const b = await buyOffer(f);
    let lookups = 0;
    const flaky = fixture({
      dataDir: f.dataDir,
      config: { authSchemes: 'x402' },
      backend: {
        createInvoice: (...args) => f.dev.createInvoice(...args),
        getInfo: () => f.dev.getInfo(),
        lookupInvoice: async (hash) => {
          if (lookups++ === 0) throw new BackendUnavailableError('lnd is restarting');
          return f.dev.lookupInvoice(hash);
        },
      },
    });
    const first = await post(flaky.app, '/v1/similarity', PAIR, { 'payment-signature': b.signature });
    expect(first.status).toBe(503);
    // The offer id is derived from the master secret, so it survives the restart; the charge was not spent.
    expect((await post(flaky.app, '/v1/similarity', PAIR, { 'payment-signature': b.signature })).status).toBe(200);
  });
});
