import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/challenges.json' with { type: 'json' };
import mpp from '../../test/vectors/mpp-vectors.json' with { type: 'json' };
import {
  formatL402Challenge,
  formatL402Challenges,
  isL402Error,
  MAX_HEADER_LENGTH,
  parseL402Challenge,
  parsePaymentChallenges,
  parsePaymentCredential,
  parseWwwAuthenticate,
  parseX402PaymentRequired,
  readPaymentDemand,
} from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';
import { decodeMacaroon } from './macaroon.ts';

type HeaderSpec =
  | string
  | string[]
  | { prefix: string; repeat: string; times: number; suffix: string }
  | { lines: number; line: string };

const MAC = vectors.macaroon;
const INV = vectors.invoice;

/** Substitutes the placeholders of challenges.json. */
function fill(s: string): string {
  return s
    .replace(/\{\{MAC_TRUNC(\d+)\}\}/g, (_, n: string) => MAC.slice(0, Number(n)))
    .replaceAll('{{MAC}}', MAC)
    .replaceAll('{{INV_TAIL}}', INV.slice(1))
    .replaceAll('{{INV}}', INV);
}

function header(spec: HeaderSpec): string | string[] {
  if (typeof spec === 'string') return fill(spec);
  if (Array.isArray(spec)) return spec.map(fill);
  if ('lines' in spec) return Array.from({ length: spec.lines }, () => fill(spec.line));
  return fill(spec.prefix) + spec.repeat.repeat(spec.times) + fill(spec.suffix);
}

function fillDeep<T>(v: T): T {
  return JSON.parse(fill(JSON.stringify(v))) as T;
}

describe('parseL402Challenge: golden vectors (test/vectors/challenges.json)', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const h = header(v.header as HeaderSpec);
    expect(parseL402Challenge(h)).toEqual(fillDeep(v.expect));
    const all = parseWwwAuthenticate(h);
    expect(all.map((c) => c.scheme)).toEqual(v.schemes);
    if ('params' in v && v.params) {
      const params = all[0]!.params;
      for (const [k, val] of Object.entries(v.params)) {
        expect(Object.hasOwn(params, k), k).toBe(true);
        expect(params[k]).toBe(val);
      }
    }
  });

  it.each(vectors.unsupported.map((v) => [v.name, v] as const))('unsupported: %s', (_, v) => {
    const h = header(v.header as HeaderSpec);
    expect(codeOf(() => parseL402Challenge(h))).toBe('unsupported_scheme');
    expect(parseWwwAuthenticate(h).map((c) => c.scheme)).toEqual(v.schemes);
  });

  it.each(vectors.malformed.map((v) => [v.name, v] as const))('hostile: %s → malformed_challenge', (_, v) => {
    const h = header(v.header as HeaderSpec);
    expect(codeOf(() => parseL402Challenge(h))).toBe('malformed_challenge');
  });

  it.each(vectors.decodeFails.map((v) => [v.name, v] as const))('parses but does not decode: %s', (_, v) => {
    const c = parseL402Challenge(header(v.header as HeaderSpec));
    expect(codeOf(() => decodeMacaroon(c.macaroon))).toBe(v.code);
  });

  it('the vector macaroon is a real L402 macaroon for the vector invoice hash', () => {
    const m = decodeMacaroon(MAC);
    expect(m.paymentHash).toBe('04'.repeat(32));
    expect(m.caveats).toEqual(['services=similarity:0', 'similarity_valid_until=1700003900']);
  });
});

describe('parseWwwAuthenticate', () => {
  it('keeps token68 and auth-params apart, lower-cases param names, unescapes quoted-pairs', () => {
    expect(parseWwwAuthenticate('Bearer abc==, Basic REALM="a\\"b, c", Negotiate')).toEqual([
      { scheme: 'Bearer', params: {}, token68: 'abc==' },
      { scheme: 'Basic', params: { realm: 'a"b, c' } },
      { scheme: 'Negotiate', params: {} },
    ]);
  });

  it('accepts exactly MAX_HEADER_LENGTH characters and refuses one more', () => {
    const base = `L402 macaroon="${MAC}", invoice="${INV}", pad="`;
    const fits = `${base}${'x'.repeat(MAX_HEADER_LENGTH - base.length - 1)}"`;
    expect(fits.length).toBe(MAX_HEADER_LENGTH);
    expect(parseL402Challenge(fits).macaroon).toBe(MAC);
    expect(codeOf(() => parseL402Challenge(`${fits} `))).toBe('malformed_challenge');
  });

  it('refuses non-string input with the typed error', () => {
    expect(codeOf(() => parseWwwAuthenticate(null as unknown as string))).toBe('malformed_challenge');
    expect(codeOf(() => parseWwwAuthenticate(42 as unknown as string))).toBe('malformed_challenge');
    expect(codeOf(() => parseWwwAuthenticate([42] as unknown as string[]))).toBe('malformed_challenge');
  });
});

describe('formatL402Challenge(s)', () => {
  const c = { macaroon: MAC, invoice: INV };
  it.each([
    ['classic (default)', {}, `L402 macaroon="${MAC}", invoice="${INV}"`],
    ['classic LSAT', { scheme: 'LSAT' as const }, `LSAT macaroon="${MAC}", invoice="${INV}"`],
    ['revised', { form: 'revised' as const }, `L402 version="0", token="${MAC}", invoice="${INV}"`],
  ])('%s', (_, opts, want) => {
    expect(formatL402Challenge(c, opts)).toBe(want);
  });

  it('lsatTwin puts the LSAT line first (Aperture order)', () => {
    expect(formatL402Challenges(c)).toEqual([`L402 macaroon="${MAC}", invoice="${INV}"`]);
    const lines = formatL402Challenges(c, { lsatTwin: true });
    expect(lines).toEqual([`LSAT macaroon="${MAC}", invoice="${INV}"`, `L402 macaroon="${MAC}", invoice="${INV}"`]);
    expect(formatL402Challenges(c, { lsatTwin: true, form: 'revised' })).toEqual([
      `LSAT version="0", token="${MAC}", invoice="${INV}"`,
      `L402 version="0", token="${MAC}", invoice="${INV}"`,
    ]);
    // What a client sees for the twin: as two lines and as fetch's joined value, the L402 one wins.
    expect(parseL402Challenge(lines).scheme).toBe('L402');
    expect(parseL402Challenge(lines.join(', '))).toEqual({ scheme: 'L402', ...c });
  });

  it.each([
    ['macaroon with a quote', { macaroon: 'AA"A', invoice: INV }, 'bad_macaroon'],
    ['macaroon with CR/LF', { macaroon: 'AAAA\r\nX: y', invoice: INV }, 'bad_macaroon'],
    ['empty macaroon', { macaroon: '', invoice: INV }, 'bad_macaroon'],
    ['invoice with a quote', { macaroon: MAC, invoice: 'lnbc1"x' }, 'bad_invoice'],
    ['invoice that is not BOLT11', { macaroon: MAC, invoice: 'bitcoin:bc1q' }, 'bad_invoice'],
  ])('refuses to format %s', (_, bad, code) => {
    expect(codeOf(() => formatL402Challenge(bad))).toBe(code);
  });
});

// Arbitrary valid challenge parts: base64 of random bytes (standard, padded) and invoice-like strings.
const macaroonArb = fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b).toString('base64'));
const invoiceArb = fc
  .tuple(fc.constantFrom('lnbc', 'lntb', 'lntbs', 'lnbcrt', 'LNBC'), fc.stringMatching(/^[a-z0-9]{1,300}$/))
  .map(([p, rest]) => p + rest);

describe('properties', () => {
  it('parse ∘ format round-trips (every form, scheme, twin, array or joined)', () => {
    fc.assert(
      fc.property(
        macaroonArb,
        invoiceArb,
        fc.constantFrom('classic', 'revised') as fc.Arbitrary<'classic' | 'revised'>,
        fc.boolean(),
        fc.boolean(),
        (macaroon, invoice, form, lsatTwin, joined) => {
          const lines = formatL402Challenges({ macaroon, invoice }, { form, lsatTwin });
          const parsed = parseL402Challenge(joined ? lines.join(', ') : lines);
          expect(parsed).toEqual({
            scheme: 'L402',
            macaroon,
            invoice,
            ...(form === 'revised' ? { version: '0' } : {}),
          });
          const lsat = parseL402Challenge(formatL402Challenge({ macaroon, invoice }, { form, scheme: 'LSAT' }));
          expect(lsat.scheme).toBe('LSAT');
          expect(lsat.macaroon).toBe(macaroon);
        },
      ),
      { numRuns: 300 },
    );
  });

  const onlyTyped = (fn: () => unknown): boolean => {
    try {
      fn();
    } catch (e) {
      if (!isL402Error(e)) throw e;
    }
    return true;
  };

  const validHeader = fc.oneof(
    fc
      .tuple(macaroonArb, invoiceArb, fc.constantFrom('classic', 'revised') as fc.Arbitrary<'classic' | 'revised'>)
      .map(([macaroon, invoice, form]) =>
        formatL402Challenges({ macaroon, invoice }, { form, lsatTwin: true }).join(', '),
      ),
    // Aperture's Payment challenges and credentials, alone and after an L402 pair
    fc.constantFrom(...mpp.challengeHeaders.map((v) => v.header), ...mpp.credentials.map((v) => v.header)),
    fc
      .tuple(macaroonArb, invoiceArb, fc.constantFrom(...mpp.challengeHeaders.map((v) => v.header)))
      .map(([macaroon, invoice, p]) => `${formatL402Challenge({ macaroon, invoice })}, ${p}`),
  );
  // Mutations of a valid header: insert, delete or replace a character (drawn from the troublesome ones).
  const mutated = fc
    .tuple(
      validHeader,
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.nat({ max: 3 }),
          fc.constantFrom('"', '\\', ',', '=', ' ', '\t', '\r', '\n', '\0', 'L402 ', 'a', '/', '+', '\u00e9', '\ud83d'),
        ),
        { minLength: 1, maxLength: 6 },
      ),
    )
    .map(([h, edits]) => {
      let s = h;
      for (const [at, op, ch] of edits) {
        const i = at % (s.length + 1);
        if (op === 0) s = s.slice(0, i) + ch + s.slice(i);
        else if (op === 1) s = s.slice(0, i) + s.slice(i + 1);
        else if (op === 2) s = s.slice(0, i) + ch + s.slice(i + 1);
        else s = s.slice(0, i);
      }
      return s;
    });

  it.each([
    ['fc.string', fc.string({ maxLength: 200 })],
    ['fc.string (full unicode)', fc.string({ unit: 'grapheme', maxLength: 200 })],
    ['fc.string (binary units)', fc.string({ unit: 'binary', maxLength: 200 })],
    [
      'strings from header characters',
      fc.string({ unit: fc.constantFrom('L', '4', '0', '2', 'a', '=', '"', '\\', ',', ' ', '\t'), maxLength: 80 }),
    ],
    ['mutations of valid headers', mutated],
  ])(
    'parsers (L402, Payment, x402, the demand) never throw anything but L402Error on %s',
    (_, arb: fc.Arbitrary<string>) => {
      fc.assert(
        fc.property(arb, fc.boolean(), (s, asArray) => {
          const v = asArray ? s.split(/, (?=L402|LSAT|Payment)/) : s;
          readPaymentDemand({ wwwAuthenticate: v, paymentRequired: s }); // never throws at all
          return (
            onlyTyped(() => parseWwwAuthenticate(v)) &&
            onlyTyped(() => parseL402Challenge(v)) &&
            onlyTyped(() => parsePaymentChallenges(v)) &&
            onlyTyped(() => parsePaymentCredential(s)) &&
            onlyTyped(() => parseX402PaymentRequired(s))
          );
        }),
        { numRuns: 500 },
      );
    },
  );
});
