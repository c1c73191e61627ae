import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signTestInvoice, type TestNetwork } from '../../test/support/invoices.ts';
import golden from '../../test/vectors/invoices.json' with { type: 'json' };
import {
  bytesToBase64,
  caveat,
  chooseOption,
  checkOption,
  encodeChargeRequest,
  formatL402Challenges,
  formatPaymentChallenge,
  formatX402PaymentSignature,
  hexToBytes,
  isX402Lightning,
  type L402ErrorCode,
  mintMacaroon,
  type PaymentChallenge,
  type PaymentDemand,
  parseX402PaymentRequired,
  parseX402PaymentSignature,
  readPaymentDemand,
  type X402Requirements,
} from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';

const T0 = 1_700_000_000;
const H1 = '11'.repeat(32);
const H2 = '22'.repeat(32);
const H3 = '33'.repeat(32);
const MAINNET_CAIP = 'bip122:000000000019d6689c085ae165831e93';
const REGTEST_CAIP = 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328';

function invoice(o: { hash: string; sats?: number; msat?: string; network?: TestNetwork; expiry?: number }): string {
  return signTestInvoice({
    signingKey: golden.signingKey,
    paymentHash: o.hash,
    timestamp: T0,
    description: 'test',
    network: o.network ?? 'regtest',
    ...(o.msat !== undefined ? { millisatoshis: o.msat } : { satoshis: o.sats ?? 10 }),
    expirySeconds: o.expiry ?? 600,
  });
}

const macaroonFor = (hash: string) =>
  mintMacaroon({
    rootKey: new Uint8Array(32).fill(7),
    paymentHash: hexToBytes(hash)!,
    tokenId: new Uint8Array(32).fill(1),
    caveats: [caveat.services([{ name: 'similarity', tier: 0 }])],
  });

function chargeLine(o: {
  hash: string;
  sats: number;
  amount?: string;
  paymentHash?: string;
  network?: string;
  expires?: string;
  invoiceNetwork?: TestNetwork;
  intent?: string;
  method?: string;
}): string {
  const request = encodeChargeRequest({
    amount: o.amount ?? String(o.sats),
    currency: 'sat',
    methodDetails: {
      invoice: invoice({ hash: o.hash, sats: o.sats, network: o.invoiceNetwork ?? 'regtest' }),
      ...(o.paymentHash !== undefined ? { paymentHash: o.paymentHash } : { paymentHash: o.hash }),
      ...(o.network !== undefined ? { network: o.network } : { network: 'regtest' }),
    },
  });
  const c: PaymentChallenge = {
    id: 'abc',
    realm: 'api.test',
    method: o.method ?? 'lightning',
    intent: o.intent ?? 'charge',
    request,
  };
  if (o.expires !== undefined) c.expires = o.expires;
  return formatPaymentChallenge(c);
}

function x402Header(accepts: X402Requirements[], version = 2): string {
  return bytesToBase64(
    new TextEncoder().encode(JSON.stringify({ x402Version: version, resource: { url: 'http://api.test/x' }, accepts })),
  );
}
const lightningReq = (o: {
  hash: string;
  sats: number;
  amount?: string;
  network?: string;
  invoiceNetwork?: TestNetwork;
}): X402Requirements => ({
  scheme: 'exact',
  network: o.network ?? REGTEST_CAIP,
  amount: o.amount ?? String(o.sats * 1000),
  asset: 'BTC',
  payTo: 'anonymous',
  maxTimeoutSeconds: 600,
  extra: {
    paymentMethod: 'lightning',
    invoice: invoice({ hash: o.hash, sats: o.sats, network: o.invoiceNetwork ?? 'regtest' }),
  },
});
const usdc: X402Requirements = {
  scheme: 'exact',
  network: 'eip155:8453',
  amount: '10000',
  asset: 'USDC',
  payTo: '0xabc',
};

const checks = { now: T0 + 10, networks: ['regtest' as const] };

describe('readPaymentDemand', () => {
  it("lists all three schemes of one 402 (Aperture's l402+mpp with an x402 header), the LSAT twin only once", () => {
    const mac = macaroonFor(H1);
    const l402 = formatL402Challenges({ macaroon: mac, invoice: invoice({ hash: H1, sats: 10 }) }, { lsatTwin: true });
    const d = readPaymentDemand({
      wwwAuthenticate: [...l402, chargeLine({ hash: H2, sats: 10 })],
      paymentRequired: x402Header([usdc, lightningReq({ hash: H3, sats: 10 })]),
    });
    expect(d.options.map((o) => o.scheme)).toEqual(['l402', 'payment', 'x402']);
    expect(d.unsupported).toEqual([
      { scheme: 'x402', name: 'x402 exact on eip155:8453 (USDC)', reason: 'not a Lightning invoice' },
    ]);
    expect(d.schemes).toEqual(['LSAT', 'L402', 'Payment']);
    // the comma-joined form fetch gives is read the same way
    expect(
      readPaymentDemand({ wwwAuthenticate: [...l402, chargeLine({ hash: H2, sats: 10 })].join(', ') }).options,
    ).toHaveLength(2);
  });

  it('reads bLIP-0026 L402 (version="0", token=) and ignores unknown params; an unknown version is named, not paid', () => {
    const mac = macaroonFor(H1);
    const inv = invoice({ hash: H1, sats: 10 });
    const d = readPaymentDemand({ wwwAuthenticate: `L402 version="0", token="${mac}", invoice="${inv}", future="x"` });
    expect(d.options).toEqual([
      {
        scheme: 'l402',
        invoice: inv,
        reusable: true,
        challenge: { scheme: 'L402', macaroon: mac, invoice: inv, version: '0' },
      },
    ]);
    const v1 = readPaymentDemand({ wwwAuthenticate: `L402 version="1", token="${mac}", invoice="${inv}"` });
    expect(v1.options).toEqual([]);
    expect(v1.unsupported[0]?.reason).toMatch(/version 1/);
  });

  it('names Payment offers it does not pay: other methods, sessions, broken requests', () => {
    const d = readPaymentDemand({
      wwwAuthenticate: [
        chargeLine({ hash: H1, sats: 5, method: 'stripe' }),
        chargeLine({ hash: H1, sats: 5, intent: 'session' }),
        'Payment id="a", realm="r", method="lightning", intent="charge", request="e30"',
      ],
    });
    expect(d.options).toEqual([]);
    expect(d.unsupported.map((u) => u.name)).toEqual([
      'Payment stripe/charge',
      'Payment lightning/session',
      'Payment lightning/charge',
    ]);
  });

  it('an x402 without Lightning, or of another version, is unsupported; a garbled header too', () => {
    expect(readPaymentDemand({ paymentRequired: x402Header([usdc]) })).toEqual({
      options: [],
      unsupported: [{ scheme: 'x402', name: 'x402 exact on eip155:8453 (USDC)', reason: 'not a Lightning invoice' }],
      schemes: [],
    });
    expect(
      readPaymentDemand({ paymentRequired: x402Header([lightningReq({ hash: H1, sats: 1 })], 1) }).unsupported[0]?.name,
    ).toBe('x402 v1');
    expect(readPaymentDemand({ paymentRequired: '!!!' }).unsupported[0]?.scheme).toBe('x402');
  });

  it('never throws, whatever the headers (fuzz)', () => {
    const b64json = fc.jsonValue().map((j) => bytesToBase64(new TextEncoder().encode(JSON.stringify(j))));
    fc.assert(
      fc.property(
        fc.option(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { nil: undefined }),
        fc.option(fc.oneof(fc.string(), b64json), { nil: undefined }),
        (wa, pr) => {
          const d: PaymentDemand = readPaymentDemand({ wwwAuthenticate: wa ?? null, paymentRequired: pr ?? null });
          for (const o of d.options) expect(o.invoice).toMatch(/^ln/i);
          expect([
            'no error',
            'bad_invoice',
            'bad_macaroon',
            'hash_mismatch',
            'amount_missing',
            'amount_mismatch',
            'invoice_expired',
            'wrong_network',
            'malformed_challenge',
          ]).toContain(codeOf(() => chooseOption(d, checks)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('invoice sanity per scheme (checkOption)', () => {
  const one = (d: PaymentDemand) => d.options[0]!;
  it.each<[string, string | string[] | null, string | null, L402ErrorCode | 'no error']>([
    ['a good charge', chargeLine({ hash: H1, sats: 10 }), null, 'no error'],
    ['charge amount ≠ invoice amount', chargeLine({ hash: H1, sats: 10, amount: '9' }), null, 'amount_mismatch'],
    ['charge paymentHash ≠ invoice hash', chargeLine({ hash: H1, sats: 10, paymentHash: H2 }), null, 'hash_mismatch'],
    [
      'charge says mainnet, invoice is regtest',
      chargeLine({ hash: H1, sats: 10, network: 'mainnet' }),
      null,
      'wrong_network',
    ],
    [
      'charge invoice on mainnet (wallet is regtest)',
      chargeLine({ hash: H1, sats: 10, network: 'mainnet', invoiceNetwork: 'mainnet' }),
      null,
      'wrong_network',
    ],
    [
      'charge challenge expired (invoice still fine)',
      chargeLine({ hash: H1, sats: 10, expires: new Date((T0 + 5) * 1000).toISOString() }),
      null,
      'invoice_expired',
    ],
    [
      'charge expires not RFC 3339',
      chargeLine({ hash: H1, sats: 10, expires: 'tomorrow' }),
      null,
      'malformed_challenge',
    ],
    ['a good x402', null, x402Header([lightningReq({ hash: H1, sats: 10 })]), 'no error'],
    [
      'x402 amount (msat) ≠ invoice',
      null,
      x402Header([lightningReq({ hash: H1, sats: 10, amount: '10' })]),
      'amount_mismatch',
    ],
    [
      'x402 network mainnet, invoice regtest',
      null,
      x402Header([lightningReq({ hash: H1, sats: 10, network: MAINNET_CAIP })]),
      'wrong_network',
    ],
    [
      'x402 unknown chain',
      null,
      x402Header([lightningReq({ hash: H1, sats: 10, network: 'bip122:ffff' })]),
      'wrong_network',
    ],
  ])('%s', (_, wa, pr, code) => {
    const d = readPaymentDemand({ wwwAuthenticate: wa, paymentRequired: pr });
    expect(d.options).toHaveLength(1);
    expect(codeOf(() => checkOption(one(d), checks))).toBe(code);
  });

  it('an expired invoice is refused for every scheme', () => {
    const late = { ...checks, now: T0 + 601 };
    const mac = macaroonFor(H1);
    const d = readPaymentDemand({
      wwwAuthenticate: [
        ...formatL402Challenges({ macaroon: mac, invoice: invoice({ hash: H1, sats: 10 }) }),
        chargeLine({ hash: H2, sats: 10 }),
      ],
      paymentRequired: x402Header([lightningReq({ hash: H3, sats: 10 })]),
    });
    expect(d.options.map((o) => codeOf(() => checkOption(o, late)))).toEqual([
      'invoice_expired',
      'invoice_expired',
      'invoice_expired',
    ]);
  });

  it("the challenge's expires bounds payableUntil", () => {
    const expires = new Date((T0 + 100) * 1000).toISOString();
    const c = checkOption(
      one(readPaymentDemand({ wwwAuthenticate: chargeLine({ hash: H1, sats: 10, expires }) })),
      checks,
    );
    expect(c.payableUntil).toBe(T0 + 100);
    expect(c.invoice.amountMsat).toBe(10_000);
  });
});

describe('chooseOption', () => {
  it('prefers a reusable L402 token over a cheaper one-time charge', () => {
    const mac = macaroonFor(H1);
    const d = readPaymentDemand({
      wwwAuthenticate: [
        chargeLine({ hash: H2, sats: 5 }),
        ...formatL402Challenges({ macaroon: mac, invoice: invoice({ hash: H1, sats: 50 }) }),
      ],
      paymentRequired: x402Header([lightningReq({ hash: H3, sats: 1 })]),
    });
    expect(chooseOption(d, checks).chosen?.option.scheme).toBe('l402');
  });

  it('else the cheapest, and exactly one', () => {
    const d = readPaymentDemand({
      wwwAuthenticate: chargeLine({ hash: H2, sats: 5 }),
      paymentRequired: x402Header([lightningReq({ hash: H3, sats: 4 })]),
    });
    const { chosen, refused } = chooseOption(d, checks);
    expect(chosen?.option.scheme).toBe('x402');
    expect(chosen?.invoice.amountMsat).toBe(4000);
    expect(refused).toEqual([]);
  });

  it('skips an option that fails sanity and says why', () => {
    const mac = macaroonFor(H1);
    const d = readPaymentDemand({
      // the L402 invoice does not pay the macaroon's hash: never chosen, however reusable
      wwwAuthenticate: [
        ...formatL402Challenges({ macaroon: mac, invoice: invoice({ hash: H3, sats: 1 }) }),
        chargeLine({ hash: H2, sats: 7 }),
      ],
    });
    const { chosen, refused } = chooseOption(d, checks);
    expect(chosen?.option.scheme).toBe('payment');
    expect(refused.map((r) => [r.option.scheme, r.error.code])).toEqual([['l402', 'hash_mismatch']]);
  });

  it('none when nothing is payable', () => {
    expect(chooseOption(readPaymentDemand({ paymentRequired: x402Header([usdc]) }), checks).chosen).toBeNull();
  });
});

describe('x402 encoding', () => {
  it('the PAYMENT-SIGNATURE names the paid invoice and the accepted requirement (what lightning-tools sends)', () => {
    const r = lightningReq({ hash: H1, sats: 3 });
    if (!isX402Lightning(r)) throw new Error('fixture is Lightning');
    const sig = parseX402PaymentSignature(formatX402PaymentSignature(r));
    expect(sig).toEqual({
      x402Version: 2,
      scheme: 'exact',
      network: REGTEST_CAIP,
      accepted: r,
      payload: { invoice: r.extra.invoice },
    });
  });
  it.each([
    ['not base64', '***'],
    ['not JSON', bytesToBase64(new TextEncoder().encode('{'))],
    ['no version', bytesToBase64(new TextEncoder().encode('{"accepts":[]}'))],
    ['empty accepts', x402Header([])],
    ['an option without amount', x402Header([{ scheme: 'exact', network: 'x' } as X402Requirements])],
  ])('PAYMENT-REQUIRED refused: %s', (_, h) => {
    expect(codeOf(() => parseX402PaymentRequired(h))).toBe('malformed_challenge');
  });
});
