import { describe, expect, it } from 'vitest';
import {
  decodeChargeRequest,
  encodeChargeRequest,
  formatPaymentCredential,
  type PaymentChallenge,
  parseL402Challenge,
  parsePaymentChallenges,
  parsePaymentReceipt,
  parseWwwAuthenticate,
  readPaymentDemand,
  chooseOption,
} from '../../src/l402/index.ts';
import { splitChallenges } from '../challenge-lines.ts';
import { buyToken, fixture, PAIR, post, tempDir, wrongPreimage } from '../../test/support/server-fixtures.ts';
import { StoreUnavailableError } from '../tokens/shared-store.ts';
import { memorySpentCharges, openSpentCharges } from './spent-charges.ts';

const BATCH = {
  query: [1, 0, 0],
  vectors: [
    [1, 0, 0],
    [0, 1, 0],
    [1, 1, 0],
  ],
};

type F = ReturnType<typeof fixture>;

/** A 402's Payment challenge, paid with the dev wallet: the credential and the challenge. */
async function buyCharge(
  f: F,
  path = '/v1/similarity',
  body: unknown = PAIR,
): Promise<{ authorization: string; challenge: PaymentChallenge; preimage: string }> {
  const res = await post(f.app, path, body);
  expect(res.status).toBe(402);
  const [challenge] = parsePaymentChallenges(res.headers.get('www-authenticate') ?? '');
  const preimage = await f.wallet.pay(decodeChargeRequest(challenge!.request).methodDetails.invoice);
  return {
    authorization: formatPaymentCredential({ challenge: challenge!, payload: { preimage } }),
    challenge: challenge!,
    preimage,
  };
}

describe('AUTH_SCHEMES', () => {
  it('l402 (default): only the LSAT twin and the L402 challenge; a Payment credential is ignored', async () => {
    const f = fixture();
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(parseWwwAuthenticate(res.headers.get('www-authenticate')!).map((c) => c.scheme)).toEqual(['LSAT', 'L402']);
  });

  it('payment: one Payment line; its request is a valid Lightning charge of the route price that the core accepts', async () => {
    const f = fixture({ config: { authSchemes: 'payment' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(402);
    const wa = res.headers.get('www-authenticate')!;
    expect(parseWwwAuthenticate(wa).map((c) => c.scheme)).toEqual(['Payment']);
    const { chosen } = chooseOption(readPaymentDemand({ wwwAuthenticate: wa }), {
      now: f.clock.now / 1000,
      networks: ['regtest'],
    });
    expect(chosen?.option.scheme).toBe('payment');
    expect(chosen?.invoice.amountMsat).toBe(10_000);
    expect(await res.json()).toMatchObject({ error: { code: 'payment_required' }, price_msat: 10_000 });
  });

  it('l402,payment: LSAT, L402 and Payment, each its own challenge with its own invoice', async () => {
    const f = fixture({ config: { authSchemes: 'l402,payment' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    const wa = res.headers.get('www-authenticate')!;
    expect(parseWwwAuthenticate(wa).map((c) => c.scheme)).toEqual(['LSAT', 'L402', 'Payment']);
    expect(splitChallenges(wa).map((l) => l.split(' ')[0])).toEqual(['LSAT', 'L402', 'Payment']);
    const charge = decodeChargeRequest(parsePaymentChallenges(wa)[0]!.request).methodDetails.invoice;
    expect(charge).not.toBe(parseL402Challenge(wa).invoice);
    const discovery = await (await f.app.fetch(new Request('http://server.test/.well-known/l402.json'))).json();
    expect(discovery).toMatchObject({
      auth_schemes: ['l402', 'payment'],
      payment: { method: 'lightning', intent: 'charge', realm: 'similarity' },
    });
  });
});

describe('Payment charge', () => {
  it('while the shared store of spent charges is down, a charge is not redeemed: 503 with Retry-After', async () => {
    const f = fixture({
      config: { authSchemes: 'l402,payment' },
      spentCharges: {
        spend: async () => {
          throw new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:5432');
        },
      },
    });
    const { authorization } = await buyCharge(f);
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: { code: 'backend_unavailable' } });
  });

  it('a paid charge is served once, with a Payment-Receipt; the replay is refused with a fresh challenge', async () => {
    const f = fixture({ config: { authSchemes: 'l402,payment' } });
    const { authorization, challenge } = await buyCharge(f);
    const ok = await post(f.app, '/v1/similarity', PAIR, { authorization });
    expect(ok.status).toBe(200);
    const receipt = parsePaymentReceipt(ok.headers.get('payment-receipt')!);
    expect(receipt).toMatchObject({ status: 'success', method: 'lightning', challengeId: challenge.id });
    const again = await post(f.app, '/v1/similarity', PAIR, { authorization });
    expect(again.status).toBe(402);
    expect(await again.json()).toMatchObject({ rejected: { code: 'charge_spent' } });
    expect(parseWwwAuthenticate(again.headers.get('www-authenticate')!).map((c) => c.scheme)).toEqual([
      'LSAT',
      'L402',
      'Payment',
    ]);
  });

  it('INVALID_CREDENTIAL_STATUS=401 answers a refused charge and a refused L402 token with 401 + challenge', async () => {
    const f = fixture({ config: { authSchemes: 'l402,payment', invalidCredentialStatus: 401 } });
    const { authorization } = await buyCharge(f);
    await post(f.app, '/v1/similarity', PAIR, { authorization });
    const replay = await post(f.app, '/v1/similarity', PAIR, { authorization });
    expect(replay.status).toBe(401);
    expect(readPaymentDemand({ wwwAuthenticate: replay.headers.get('www-authenticate') }).options).toHaveLength(2);
    const token = await buyToken(f);
    const bad = await post(f.app, '/v1/similarity', PAIR, { authorization: wrongPreimage(token.authorization) });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ rejected: { code: 'bad_preimage' } });
    expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402); // no credential: still 402
  });

  it('refuses a forged id, an altered request, an expired challenge, a wrong preimage and an underpriced charge', async () => {
    const f = fixture({ config: { authSchemes: 'payment' } });
    const { challenge, preimage } = await buyCharge(f);
    const send = (c: PaymentChallenge, p = preimage, path = '/v1/similarity', body: unknown = PAIR) =>
      post(f.app, path, body, { authorization: formatPaymentCredential({ challenge: c, payload: { preimage: p } }) });
    const cheaper = { ...decodeChargeRequest(challenge.request), amount: '1' };
    const cases: [string, Promise<Response>, string][] = [
      [
        'forged id',
        send({ ...challenge, id: challenge.id.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }),
        'challenge_invalid',
      ],
      ['altered request', send({ ...challenge, request: encodeChargeRequest(cheaper) }), 'challenge_invalid'],
      ['other realm', send({ ...challenge, realm: 'elsewhere' }), 'challenge_invalid'],
      ['wrong preimage', send(challenge, '00'.repeat(32)), 'bad_preimage'],
      [
        'too cheap for a batch',
        send(challenge, preimage, '/v1/similarity/batch', {
          ...BATCH,
          vectors: Array.from({ length: 400 }, () => [1, 2, 3]),
        }),
        'price_mismatch',
      ],
    ];
    for (const [name, res, code] of cases) {
      const r = await res;
      expect([name, r.status]).toEqual([name, 402]);
      expect([name, ((await r.json()) as { rejected: { code: string } }).rejected.code]).toEqual([name, code]);
    }
    f.clock.now += 601_000;
    const late = await send(challenge);
    expect(((await late.json()) as { rejected: { code: string } }).rejected.code).toBe('challenge_expired');
  });

  it('a malformed Payment credential is 400, never a payment', async () => {
    const f = fixture({ config: { authSchemes: 'payment' } });
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization: 'Payment !!!' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'malformed_authorization' } });
  });

  it('challenge ids survive a restart (derived from the master secret), so do spent charges', async () => {
    const dataDir = tempDir();
    const f1 = fixture({ dataDir, config: { authSchemes: 'payment' } });
    const { authorization } = await buyCharge(f1);
    const f2 = fixture({ dataDir, config: { authSchemes: 'payment' } });
    expect((await post(f2.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);

    const spent = openSpentCharges(dataDir, () => 1_000_000);
    expect(spent.spend('aa'.repeat(32), 2000)).toBe(true);
    expect(spent.spend('aa'.repeat(32), 2000)).toBe(false);
    expect(openSpentCharges(dataDir, () => 1_000_000).has('aa'.repeat(32))).toBe(true);
    expect(openSpentCharges(dataDir, () => 2_000_000).has('aa'.repeat(32))).toBe(false); // pruned at expiry
  });

  it('the spent store prunes expired entries as it goes', () => {
    let now = 0;
    const s = memorySpentCharges(() => now);
    s.spend('a', 10);
    s.spend('b', 20);
    now = 15_000;
    s.spend('c', 30);
    expect([s.has('a'), s.has('b'), s.has('c'), s.size]).toEqual([false, true, true, 2]);
  });
});

describe('splitChallenges', () => {
  it('splits only at commas that start an L402, LSAT or Payment challenge outside quotes', () => {
    const v =
      'LSAT macaroon="a,b", invoice="x", L402 macaroon="a", invoice="x", Payment id="1", realm="L402 x=1, Payment y=2", method="lightning"';
    expect(splitChallenges(v)).toEqual([
      'LSAT macaroon="a,b", invoice="x"',
      'L402 macaroon="a", invoice="x"',
      'Payment id="1", realm="L402 x=1, Payment y=2", method="lightning"',
    ]);
    expect(splitChallenges('Basic realm="x"')).toEqual(['Basic realm="x"']);
  });
});
