import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAuthorization, isL402Authorization, isL402Error, parseAuthorization } from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';

const MAC1 = 'AgEObDQwMi1hdXRvcGlsb3QCQgAABAQE+/8=';
const MAC2 = 'AgEEbHNhdAJCAAA';
const MAC_URL = 'AgEEbHNhdAJCAA-_';
const PRE = '0f'.repeat(32);

describe('formatAuthorization', () => {
  it.each([
    ['one macaroon', { macaroons: [MAC1], preimage: PRE }, `L402 ${MAC1}:${PRE}`],
    [
      'several macaroons',
      { macaroons: [MAC1, MAC2, MAC_URL], preimage: PRE },
      `L402 ${MAC1},${MAC2},${MAC_URL}:${PRE}`,
    ],
    ['LSAT scheme', { macaroons: [MAC1], preimage: PRE, scheme: 'LSAT' as const }, `LSAT ${MAC1}:${PRE}`],
    [
      'uppercase hex is normalised',
      { macaroons: [MAC1], preimage: 'AB'.repeat(32) },
      `L402 ${MAC1}:${'ab'.repeat(32)}`,
    ],
  ])('%s', (_, input, want) => {
    expect(formatAuthorization(input)).toBe(want);
  });

  it.each([
    ['no macaroon', { macaroons: [], preimage: PRE }, 'bad_macaroon'],
    ['CR/LF in a macaroon', { macaroons: [`${MAC1}\r\nX-Evil: 1`], preimage: PRE }, 'bad_macaroon'],
    ['space in a macaroon', { macaroons: ['AAAA BBBB'], preimage: PRE }, 'bad_macaroon'],
    ['comma in a macaroon', { macaroons: [`${MAC1},${MAC2}`], preimage: PRE }, 'bad_macaroon'],
    ['colon in a macaroon', { macaroons: ['AAAA:BBBB'], preimage: PRE }, 'bad_macaroon'],
    ['bad base64 length', { macaroons: ['AAAAA'], preimage: PRE }, 'bad_macaroon'],
    ['empty macaroon', { macaroons: [''], preimage: PRE }, 'bad_macaroon'],
    ['63 hex', { macaroons: [MAC1], preimage: PRE.slice(1) }, 'bad_preimage'],
    ['65 hex', { macaroons: [MAC1], preimage: `${PRE}0` }, 'bad_preimage'],
    ['non-hex', { macaroons: [MAC1], preimage: `${PRE.slice(2)}zz` }, 'bad_preimage'],
    ['CR/LF after the preimage', { macaroons: [MAC1], preimage: `${PRE}\r\n` }, 'bad_preimage'],
  ])('refuses %s', (_, input, code) => {
    expect(codeOf(() => formatAuthorization(input))).toBe(code);
  });
});

describe('parseAuthorization', () => {
  it.each([
    ['one macaroon', `L402 ${MAC1}:${PRE}`, { scheme: 'L402', macaroons: [MAC1], preimage: PRE }],
    ['several macaroons', `L402 ${MAC1},${MAC2}:${PRE}`, { scheme: 'L402', macaroons: [MAC1, MAC2], preimage: PRE }],
    ['LSAT', `LSAT ${MAC1}:${PRE}`, { scheme: 'LSAT', macaroons: [MAC1], preimage: PRE }],
    ['lower-case scheme', `l402 ${MAC1}:${PRE}`, { scheme: 'L402', macaroons: [MAC1], preimage: PRE }],
    [
      'uppercase hex normalised',
      `L402 ${MAC1}:${'AB'.repeat(32)}`,
      { scheme: 'L402', macaroons: [MAC1], preimage: 'ab'.repeat(32) },
    ],
    ['URL-safe base64 macaroon', `L402 ${MAC_URL}:${PRE}`, { scheme: 'L402', macaroons: [MAC_URL], preimage: PRE }],
    [
      'surrounding optional whitespace (OWS)',
      ` \tL402 ${MAC1}:${PRE} `,
      { scheme: 'L402', macaroons: [MAC1], preimage: PRE },
    ],
  ])('%s', (_, header, want) => {
    expect(parseAuthorization(header)).toEqual(want);
  });

  it.each([
    ['CR/LF injection after the value', `L402 ${MAC1}:${PRE}\r\nX-Evil: 1`],
    ['trailing CR/LF', `L402 ${MAC1}:${PRE}\r\n`],
    ['bare LF inside', `L402 ${MAC1}\n:${PRE}`],
    ['NUL', `L402 ${MAC1}:${PRE}\0`],
    ['trailing junk', `L402 ${MAC1}:${PRE}junk`],
    ['trailing second credential', `L402 ${MAC1}:${PRE}, Basic abc`],
    ['two spaces after the scheme', `L402  ${MAC1}:${PRE}`],
    ['space before the colon', `L402 ${MAC1} :${PRE}`],
    ['space after a comma', `L402 ${MAC1}, ${MAC2}:${PRE}`],
    ['empty macaroon between commas', `L402 ${MAC1},,${MAC2}:${PRE}`],
    ['no macaroon', `L402 :${PRE}`],
    ['bad base64 character', `L402 AgE*AAAA:${PRE}`],
    ['bad base64 length', `L402 AAAAA:${PRE}`],
    ['padding only', `L402 ==:${PRE}`],
    ['mixed base64 alphabets', `L402 ab+_:${PRE}`],
    ['63 hex', `L402 ${MAC1}:${PRE.slice(1)}`],
    ['65 hex', `L402 ${MAC1}:${PRE}0`],
    ['non-hex preimage', `L402 ${MAC1}:${PRE.slice(2)}zz`],
    ['two colons', `L402 ${MAC1}:${PRE}:${PRE}`],
    ['other scheme', `Bearer ${MAC1}:${PRE}`],
    ['scheme only', 'L402'],
    ['empty', ''],
    ['too long', `L402 ${'A'.repeat(20_000)}:${PRE}`],
  ])('rejects %s', (_, header) => {
    expect(codeOf(() => parseAuthorization(header))).toBe('malformed_authorization');
  });

  it('rejects non-string input with the typed error', () => {
    expect(codeOf(() => parseAuthorization(undefined as unknown as string))).toBe('malformed_authorization');
  });

  it('format ∘ parse round-trips', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 4 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom('L402', 'LSAT') as fc.Arbitrary<'L402' | 'LSAT'>,
        (macs, pre, scheme) => {
          const macaroons = macs.map((m) => Buffer.from(m).toString('base64'));
          const preimage = Buffer.from(pre).toString('hex');
          const h = formatAuthorization({ macaroons, preimage, scheme });
          expect(parseAuthorization(h)).toEqual({ scheme, macaroons, preimage });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws anything but L402Error, and never accepts CR/LF', () => {
    const arb = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', '\r\n', ' ', ',', ':', '=', '\0', 'x')).map(([at, ch]) => {
        const h = `L402 ${MAC1},${MAC2}:${PRE}`;
        const i = at % (h.length + 1);
        return h.slice(0, i) + ch + h.slice(i);
      }),
    );
    fc.assert(
      fc.property(arb, (s) => {
        try {
          const c = parseAuthorization(s);
          expect(s).not.toMatch(/[\r\n\0]/);
          expect(c.preimage).toMatch(/^[0-9a-f]{64}$/);
        } catch (e) {
          if (!isL402Error(e, 'malformed_authorization')) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('isL402Authorization', () => {
  it.each([
    [`L402 ${MAC1}:${PRE}`, true],
    [`lsat ${MAC1}:${PRE}`, true],
    ['L402 garbage', true],
    ['Bearer abc', false],
    ['L402', false],
    ['L402x abc', false],
    ['', false],
    [null, false],
    [undefined, false],
  ])('%s → %s', (h, want) => {
    expect(isL402Authorization(h)).toBe(want);
  });
});
