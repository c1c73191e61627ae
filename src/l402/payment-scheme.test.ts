import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/mpp-vectors.json' with { type: 'json' };
import {
  base64UrlDecode,
  base64UrlEncode,
  bytesToHex,
  canonicalJson,
  challengeIdInput,
  chargePreimageOf,
  decodeChargeRequest,
  encodeChargeRequest,
  formatPaymentChallenge,
  formatPaymentCredential,
  formatPaymentReceipt,
  hexToBytes,
  type PaymentChallenge,
  parsePaymentChallenges,
  parsePaymentCredential,
  parsePaymentReceipt,
  paymentChallengeId,
  verifyPaymentChallengeId,
} from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';
import { hasControlChar } from './encoding.ts';

// Golden vectors: Aperture's cross-implementation file (lightninglabs/aperture mpp/testdata/vectors.json).
const secret = hexToBytes(vectors.hmacSecretHex)!;
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

describe('JCS canonicalisation (Aperture vectors)', () => {
  for (const v of vectors.canonicalization) {
    it(v.name, () => {
      if ('error' in v && v.error) expect(() => canonicalJson(JSON.parse(v.input))).toThrow();
      else expect(canonicalJson(JSON.parse(v.input))).toBe(v.canonical);
    });
  }
});

describe('strict base64url (Aperture vectors)', () => {
  for (const v of vectors.base64url) {
    it(v.name, () => {
      const got = base64UrlDecode(v.encoded);
      if ('error' in v && v.error) {
        expect(got).toBeNull();
        return;
      }
      expect(got).not.toBeNull();
      expect(bytesToHex(got!)).toBe('decodedHex' in v ? v.decodedHex : '');
      if (v.canonical) expect(base64UrlEncode(got!)).toBe(v.encoded);
    });
  }
  it('round-trips any bytes and only ever decodes its own spelling', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = base64UrlEncode(bytes);
        expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(bytesToHex(base64UrlDecode(s)!)).toBe(bytesToHex(bytes));
      }),
    );
  });
});

describe('Payment challenges (Aperture vectors)', () => {
  for (const v of vectors.challengeHeaders) {
    it(`${v.name}: parses and formats byte for byte`, () => {
      expect(parsePaymentChallenges(v.header)).toEqual([v.parsed]);
      expect(formatPaymentChallenge(v.params as PaymentChallenge)).toBe(v.header);
    });
  }
  for (const v of vectors.challengeLists) {
    it(`list: ${v.name}`, () => {
      if (v.name === 'repeated parameter takes the first occurrence') {
        // Deliberate deviation: a repeated param makes the whole header malformed here, so an on-path element
        // cannot override the origin's value AND we never pay an ambiguous offer.
        expect(codeOf(() => parsePaymentChallenges(v.header))).toBe('malformed_challenge');
        return;
      }
      if ('error' in v && v.error) expect(codeOf(() => parsePaymentChallenges(v.header))).toBe('unsupported_scheme');
      else expect(parsePaymentChallenges(v.header)).toEqual(v.challenges);
    });
  }
  for (const v of vectors.challengeIds) {
    it(`id: ${v.name}`, () => {
      const c = v.params as PaymentChallenge;
      expect(challengeIdInput(c)).toBe(v.hmacInput);
      expect(paymentChallengeId(secret, c)).toBe(c.id);
      expect(verifyPaymentChallengeId(secret, c)).toBe(true);
    });
  }
  it('an id from another secret, or over changed params, does not verify', () => {
    const c = vectors.challengeIds[1]!.params as PaymentChallenge;
    expect(verifyPaymentChallengeId(new Uint8Array(32), c)).toBe(false);
    expect(verifyPaymentChallengeId(secret, { ...c, request: 'eyJhbW91bnQiOiI5OTkifQ' })).toBe(false);
    expect(verifyPaymentChallengeId(secret, { ...c, expires: '2099-01-01T00:00:00Z' })).toBe(false);
    expect(verifyPaymentChallengeId(secret, { ...c, id: '!!' })).toBe(false);
  });
  it('refuses to format a control character (no header injection)', () => {
    const c = vectors.challengeHeaders[0]!.params as PaymentChallenge;
    expect(codeOf(() => formatPaymentChallenge({ ...c, description: 'a\r\nSet-Cookie: x=1' }))).toBe(
      'malformed_challenge',
    );
    expect(codeOf(() => formatPaymentChallenge({ ...c, id: '' }))).toBe('malformed_challenge');
  });
  it('format → parse is the identity for any printable params', () => {
    const text = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !hasControlChar(s));
    fc.assert(
      fc.property(
        fc.record({ id: text, realm: text, method: text, intent: text, request: text }),
        fc.option(text, { nil: undefined }),
        (c, description) => {
          const full: PaymentChallenge = description === undefined ? c : { ...c, description };
          expect(parsePaymentChallenges(formatPaymentChallenge(full))).toEqual([full]);
        },
      ),
    );
  });
});

describe('Payment credentials (Aperture vectors)', () => {
  for (const v of vectors.credentials) {
    it(v.name, () => {
      if ('error' in v && v.error) {
        expect(codeOf(() => parsePaymentCredential(v.header))).toBe('malformed_authorization');
        return;
      }
      const want = JSON.parse(v.credentialJson) as Record<string, unknown>;
      expect(parsePaymentCredential(v.header)).toEqual(want);
    });
  }
  it('formats the charge credential byte for byte', () => {
    const v = vectors.credentials[0]!;
    const c = JSON.parse(v.credentialJson) as { challenge: PaymentChallenge; payload: Record<string, unknown> };
    expect(formatPaymentCredential(c)).toBe(v.header);
  });
  it('a charge needs a 64-hex preimage; hostile credentials are refused, never thrown as something else', () => {
    const c = JSON.parse(vectors.credentials[0]!.credentialJson) as {
      challenge: PaymentChallenge;
      payload: Record<string, unknown>;
    };
    expect(codeOf(() => chargePreimageOf(c as never))).toBe('malformed_authorization');
    const ok = parsePaymentCredential(formatPaymentCredential({ ...c, payload: { preimage: 'AB'.repeat(32) } }));
    expect(chargePreimageOf(ok)).toBe('ab'.repeat(32));
    for (const h of [
      'Payment',
      'Payment a b',
      `Payment ${'A'.repeat(20_000)}`,
      'Payment eyJ9\r\nX: y',
      'Payment e30',
      'Payment W10',
      'Payment bnVsbA',
    ]) {
      expect(codeOf(() => parsePaymentCredential(h))).toBe('malformed_authorization');
    }
  });
  it('never throws anything but malformed_authorization on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Payment ${s}`),
          fc.jsonValue().map((j) => `Payment ${base64UrlEncode(new TextEncoder().encode(JSON.stringify(j)))}`),
        ),
        (h) => {
          expect(['no error', 'malformed_authorization']).toContain(codeOf(() => parsePaymentCredential(h)));
        },
      ),
    );
  });
});

describe('Payment-Receipt (Aperture vectors)', () => {
  for (const v of vectors.receipts.slice(0, 2)) {
    it(v.name, () => {
      const want = JSON.parse(v.receiptJson) as Parameters<typeof formatPaymentReceipt>[0];
      expect(parsePaymentReceipt(v.header)).toEqual(want);
      expect(formatPaymentReceipt(want)).toBe(v.header);
    });
  }
  it('session receipts decode as receipts; a top-up event (no status) is refused', () => {
    expect(parsePaymentReceipt(vectors.receipts[2]!.header).reference).toBe('aa11bb22');
    expect(codeOf(() => parsePaymentReceipt(vectors.receipts[6]!.header))).toBe('malformed_authorization');
  });
});

describe('charge request', () => {
  const req = {
    amount: '100',
    currency: 'sat',
    description: 'Weather report',
    methodDetails: { invoice: 'lnbc1u1pexample', network: 'mainnet', paymentHash: 'bc'.repeat(32) },
  };
  it('encodes as base64url of JCS JSON and decodes back', () => {
    const enc = encodeChargeRequest(req);
    expect(utf8(base64UrlDecode(enc)!)).toBe(canonicalJson(req));
    expect(decodeChargeRequest(enc)).toEqual(req);
  });
  it('decodes the vector request', () => {
    expect(decodeChargeRequest(vectors.challengeHeaders[0]!.params.request)).toEqual({
      amount: '100',
      currency: 'sat',
      description: 'Weather report',
      methodDetails: { invoice: 'lnbc1u1pexample', network: 'mainnet', paymentHash: 'bc230847' },
    });
  });
  it.each([
    ['padding games', `${encodeChargeRequest(req)}=`],
    ['standard alphabet', btoa(canonicalJson({ ...req, description: '~~~?' }))],
    ['amount as a number', encodeChargeRequest({ ...req, amount: 100 as unknown as string })],
    ['amount with a leading zero', encodeChargeRequest({ ...req, amount: '0100' })],
    ['negative amount', encodeChargeRequest({ ...req, amount: '-1' })],
    ['no invoice', encodeChargeRequest({ ...req, methodDetails: {} as typeof req.methodDetails })],
    [
      'a numeric payment hash',
      encodeChargeRequest({ ...req, methodDetails: { ...req.methodDetails, paymentHash: 7 as unknown as string } }),
    ],
    ['not JSON', base64UrlEncode(new TextEncoder().encode('{"amount":'))],
    ['an array', base64UrlEncode(new TextEncoder().encode('[]'))],
  ])('refuses %s', (_, s) => {
    expect(s).not.toBe('');
    expect(codeOf(() => decodeChargeRequest(s))).toBe('malformed_challenge');
  });
});
