import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  decodeMacaroon,
  formatAuthorization,
  hexToBytes,
  mintMacaroon,
  parseAuthorization,
  parseL402Challenge,
  parseWwwAuthenticate,
  validateChallenge,
} from '../../src/l402/index.ts';
import { openTokenAuthority } from '../tokens/token-files.ts';
import { BASE, buyToken, fixture, PAIR, post } from '../../test/support/server-fixtures.ts';

const BATCH = {
  query: [1, 0, 0],
  vectors: [
    [1, 0, 0],
    [0, 1, 0],
    [1, 1, 0],
  ],
};

describe('402 challenge', () => {
  it('sends an LSAT twin then the L402 line, both parsed back by the core, and a JSON body with the price', async () => {
    const f = fixture();
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(402);
    const joined = res.headers.get('www-authenticate') ?? '';
    const challenges = parseWwwAuthenticate(joined);
    expect(challenges.map((c) => c.scheme.toUpperCase())).toEqual(['LSAT', 'L402']);
    const l402 = parseL402Challenge(joined);
    expect(l402.scheme).toBe('L402');
    const lsat = parseL402Challenge(joined.slice(0, joined.indexOf(', L402 ')));
    expect(lsat).toMatchObject({ scheme: 'LSAT', macaroon: l402.macaroon, invoice: l402.invoice });
    const v = validateChallenge(l402, { now: f.clock.now / 1000, networks: ['regtest'] });
    expect(v.invoice.amountMsat).toBe(10_000);
    expect(v.invoice.paymentRequest.startsWith('lnbcrt')).toBe(true);
    const caveats = decodeMacaroon(l402.macaroon).caveats;
    expect(caveats).toContain('services=similarity:0');
    expect(caveats).toContain('similarity_capabilities=pair');
    expect(caveats).toContain(`similarity_valid_until=${Math.floor(f.clock.now / 1000) + 3600}`);
    const body = await res.json();
    expect(body).toMatchObject({
      error: { code: 'payment_required' },
      price_msat: 10_000,
      capability: 'pair',
      invoice: l402.invoice,
      macaroon: l402.macaroon,
      payment_hash: v.invoice.paymentHash,
    });
    expect(body.rejected).toBeUndefined();
  });

  it('prices a batch from its work and binds batch_max_work', async () => {
    const f = fixture();
    const small = await (await post(f.app, '/v1/similarity/batch', BATCH)).json();
    const bigBody = { query: new Array(300).fill(1), vectors: new Array(100).fill(new Array(300).fill(0.5)) };
    const big = await post(f.app, '/v1/similarity/batch', bigBody);
    const bigJson = await big.json();
    expect(small.work).toBe(9);
    expect(bigJson.work).toBe(30_000);
    expect(bigJson.price_msat).toBeGreaterThan(small.price_msat);
    expect(bigJson.price_msat).toBe(10_000 + 3000); // base + 100 msat per 1000 units
    expect(decodeMacaroon(bigJson.macaroon).caveats).toContain('batch_max_work=30000');
    expect(decodeMacaroon(bigJson.macaroon).caveats).toContain('similarity_capabilities=batch,pair');
  });

  it('can send only the L402 line in the revised form', async () => {
    const f = fixture({ config: { lsatTwin: false, challengeForm: 'revised' } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    const lines = res.headers.get('www-authenticate') ?? '';
    expect(lines).toMatch(/^L402 version="0", token="/);
    expect(parseWwwAuthenticate(lines)).toHaveLength(1);
  });

  it('treats a non-L402 Authorization scheme as no credential', async () => {
    const f = fixture();
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization: 'Bearer abc' });
    expect(res.status).toBe(402);
  });
});

describe('paid requests', () => {
  it('answers 200 with a dev-wallet preimage and reuses the token for many calls', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f);
    for (let i = 0; i < 5; i++) {
      const res = await post(f.app, '/v1/similarity', { a: [1, 0], b: [i, 1] }, { authorization });
      expect(res.status).toBe(200);
      expect((await res.json()).similarity).toBeCloseTo(i / Math.hypot(i, 1), 12);
    }
    expect(f.logs.filter((l) => l.paid === true)).toHaveLength(5);
    expect(f.logs.at(-1)).toMatchObject({
      msg: 'request',
      status: 200,
      route: '/v1/similarity',
      price_msat: 10_000,
      paid: true,
    });
  });

  it('accepts the LSAT scheme name', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f);
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization: authorization.replace(/^L402/, 'LSAT') });
    expect(res.status).toBe(200);
  });

  it('runs a paid batch and ranks results', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f, '/v1/similarity/batch', BATCH);
    const res = await post(f.app, '/v1/similarity/batch', { ...BATCH, top_k: 2 }, { authorization });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.results.map((r: { index: number }) => r.index)).toEqual([0, 2]);
    expect(body.results[0].similarity).toBe(1);
    expect(body.results[1].similarity).toBeCloseTo(Math.SQRT1_2, 12);
    // A batch token also grants pairs.
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
  });

  it('keeps tokens valid across a restart (new app, same data dir)', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f);
    const g = fixture({ dataDir: f.dataDir, nowMs: f.clock.now });
    expect((await post(g.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
  });
});

/** Expects a 402 carrying a fresh challenge and `rejected.code`. */
async function expectRejected(res: Response, code: string, message?: RegExp): Promise<void> {
  expect(res.status).toBe(402);
  expect(parseL402Challenge(res.headers.get('www-authenticate') ?? '').invoice).toMatch(/^lnbcrt/);
  const body = await res.json();
  expect(body.error.code).toBe('payment_required');
  expect(body.rejected.code).toBe(code);
  if (message) expect(body.rejected.message).toMatch(message);
}

describe('rejected credentials get a fresh 402 with the reason', () => {
  it('expired token', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f);
    f.clock.now += 3600 * 1000;
    await expectRejected(await post(f.app, '/v1/similarity', PAIR, { authorization }), 'caveat_failed', /expired/);
    expect(f.logs.at(-1)).toMatchObject({ status: 402, rejected: 'caveat_failed', paid: false });
  });

  it('token for another service', async () => {
    const f = fixture({ config: { serviceName: 'other' } });
    const { authorization } = await buyToken(f);
    const g = fixture({ dataDir: f.dataDir }); // same master secret, service "similarity"
    await expectRejected(
      await post(g.app, '/v1/similarity', PAIR, { authorization }),
      'caveat_failed',
      /service similarity/,
    );
  });

  it('token for another capability (pair token on batch)', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f);
    await expectRejected(
      await post(f.app, '/v1/similarity/batch', BATCH, { authorization }),
      'caveat_failed',
      /capability batch/,
    );
  });

  it('batch larger than paid for', async () => {
    const f = fixture();
    const { authorization } = await buyToken(f, '/v1/similarity/batch', BATCH);
    const bigger = { query: [1, 0, 0], vectors: [...BATCH.vectors, [0, 0, 1]] };
    await expectRejected(
      await post(f.app, '/v1/similarity/batch', bigger, { authorization }),
      'caveat_failed',
      /12 units.*paid for 9/,
    );
    // Smaller or equal work is still fine.
    expect(
      (await post(f.app, '/v1/similarity/batch', { query: [1, 0], vectors: [[0, 1]] }, { authorization })).status,
    ).toBe(200);
  });

  it('tampered caveat (expiry digits changed in the signed bytes)', async () => {
    const f = fixture();
    const { macaroon, preimage } = await buyToken(f);
    const bytes = base64ToBytes(macaroon)!;
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('similarity_valid_until=') + 'similarity_valid_until='.length;
    const tampered = bytes.slice();
    tampered[at] = tampered[at] === 0x39 ? 0x38 : 0x39; // first digit → a different year
    const authorization = formatAuthorization({ macaroons: [bytesToBase64(tampered)], preimage });
    await expectRejected(await post(f.app, '/v1/similarity', PAIR, { authorization }), 'bad_macaroon', /signature/);
  });

  it('macaroon re-minted with a guessed root key and wider caveats', async () => {
    const f = fixture();
    const { macaroon, preimage } = await buyToken(f);
    const d = decodeMacaroon(macaroon);
    const forged = mintMacaroon({
      rootKey: new Uint8Array(32).fill(7),
      paymentHash: hexToBytes(d.paymentHash)!,
      tokenId: hexToBytes(d.tokenId)!,
      caveats: ['services=similarity:0', 'similarity_capabilities=pair,batch'],
    });
    const authorization = formatAuthorization({ macaroons: [forged], preimage });
    await expectRejected(await post(f.app, '/v1/similarity/batch', BATCH, { authorization }), 'bad_macaroon');
  });

  it('wrong preimage', async () => {
    const f = fixture();
    const { macaroon } = await buyToken(f);
    const authorization = formatAuthorization({ macaroons: [macaroon], preimage: 'ab'.repeat(32) });
    await expectRejected(await post(f.app, '/v1/similarity', PAIR, { authorization }), 'bad_preimage');
  });

  it('revoked token (and the revocation survives a restart)', async () => {
    const f = fixture();
    const { authorization, macaroon } = await buyToken(f);
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
    await openTokenAuthority(f.dataDir).revoke(decodeMacaroon(macaroon).tokenId);
    const g = fixture({ dataDir: f.dataDir });
    await expectRejected(await post(g.app, '/v1/similarity', PAIR, { authorization }), 'token_revoked');
  });
});

describe('strict credentials: macaroons not used in verification are refused', () => {
  it.each([
    ['any base64 after the token', (mac: string) => `${mac},aGVsbG8gd29ybGQ=`],
    ['the token twice', (mac: string) => `${mac},${mac}`],
  ])('%s', async (_name, macaroons) => {
    const f = fixture();
    const { authorization, macaroon, preimage } = await buyToken(f);
    // Used once alone first, so the verified-credential cache holds the single-macaroon form.
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
    const extra = `L402 ${macaroons(macaroon)}:${preimage}`;
    expect(parseAuthorization(extra).macaroons).toHaveLength(2);
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization: extra });
    expect(res.status).toBe(402);
    const body = await res.json();
    expect(body.similarity).toBeUndefined();
    expect(body.rejected.code).toBe('bad_macaroon');
    expect(body.rejected.message).toMatch(/not used in verification/);
  });

  it('something that is not a macaroon first, the token second: 400 malformed', async () => {
    const f = fixture();
    const { macaroon, preimage } = await buyToken(f);
    const res = await post(f.app, '/v1/similarity', PAIR, {
      authorization: `L402 aGVsbG8gd29ybGQ=,${macaroon}:${preimage}`,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('malformed_authorization');
  });
});

describe('a credential verified before (cached) is still re-checked every request', () => {
  it('expiry, capability, work and revocation after a successful use', async () => {
    const f = fixture();
    const pair = await buyToken(f);
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization: pair.authorization })).status).toBe(200);
    await expectRejected(
      await post(f.app, '/v1/similarity/batch', BATCH, { authorization: pair.authorization }),
      'caveat_failed',
      /capability batch/,
    );
    const batch = await buyToken(f, '/v1/similarity/batch', BATCH);
    expect((await post(f.app, '/v1/similarity/batch', BATCH, { authorization: batch.authorization })).status).toBe(200);
    const bigger = { query: [1, 0, 0], vectors: [...BATCH.vectors, [0, 0, 1]] };
    await expectRejected(
      await post(f.app, '/v1/similarity/batch', bigger, { authorization: batch.authorization }),
      'caveat_failed',
      /paid for 9/,
    );
    await f.tokens.revoke(decodeMacaroon(batch.macaroon).tokenId);
    await expectRejected(
      await post(f.app, '/v1/similarity/batch', BATCH, { authorization: batch.authorization }),
      'token_revoked',
    );
    f.clock.now += 3601 * 1000;
    await expectRejected(
      await post(f.app, '/v1/similarity', PAIR, { authorization: pair.authorization }),
      'caveat_failed',
      /expired/,
    );
  });
});

describe('malformed credentials → 400', () => {
  it.each([
    ['garbage after the scheme', 'L402 not-a-credential'],
    ['short preimage', `L402 AgEDbG5k:${'a'.repeat(10)}`],
    ['base64 that is not a macaroon', `L402 aGVsbG8gd29ybGQ=:${'a'.repeat(64)}`],
  ])('%s', async (_name, authorization) => {
    const f = fixture();
    const res = await post(f.app, '/v1/similarity', PAIR, { authorization });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('malformed_authorization');
    expect(() => parseAuthorization(authorization)).toBeDefined();
  });
});

describe('Lightning backend unavailable → 503 with Retry-After', () => {
  it('when the backend throws', async () => {
    const f = fixture({
      backend: {
        createInvoice: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8080')),
        lookupInvoice: () => Promise.reject(new Error('down')),
        getInfo: () => Promise.reject(new Error('down')),
      },
    });
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await res.text();
    expect(JSON.parse(body).error.code).toBe('backend_unavailable');
    expect(body).not.toMatch(/ECONNREFUSED|at .*\.ts/);
  });

  it('when the backend hangs (bounded by BACKEND_TIMEOUT_MS)', async () => {
    const never = new Promise<never>(() => {});
    const f = fixture({
      config: { backendTimeoutMs: 20 },
      backend: { createInvoice: () => never, lookupInvoice: () => never, getInfo: () => never },
    });
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });
});

describe('CORS', () => {
  it('answers preflights allowing Authorization', async () => {
    const f = fixture();
    const res = await f.app.fetch(
      new Request(`${BASE}/v1/similarity`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://page.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('exposes WWW-Authenticate on the 402', async () => {
    const f = fixture();
    const res = await post(f.app, '/v1/similarity', PAIR, { origin: 'https://page.example' });
    expect(res.status).toBe(402);
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('www-authenticate');
  });

  it('restricts origins when configured', async () => {
    const f = fixture({ config: { corsOrigins: 'https://ok.example' } });
    const res = await post(f.app, '/v1/similarity', PAIR, { origin: 'https://evil.example' });
    expect(res.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});
