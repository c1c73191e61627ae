import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { assertPreimage, bytesToHex, hexToBytes, isL402Error, paymentHashOf, verifyPreimage } from './index.ts';

const PRE = '00'.repeat(32);
// sha256 of 32 zero bytes (a well-known constant).
const HASH = '66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925';

describe('preimage', () => {
  it('paymentHashOf is sha256 of the preimage bytes', () => {
    expect(paymentHashOf(PRE)).toBe(HASH);
    const pre = 'a1'.repeat(32);
    expect(paymentHashOf(pre)).toBe(bytesToHex(sha256(hexToBytes(pre)!)));
    expect(paymentHashOf(pre.toUpperCase())).toBe(paymentHashOf(pre));
  });

  it.each([
    ['matching pair', PRE, HASH, true],
    ['uppercase hash', PRE, HASH.toUpperCase(), true],
    ['uppercase preimage', 'A1'.repeat(32), paymentHashOf('a1'.repeat(32)), true],
    ['wrong preimage', '01'.repeat(32), HASH, false],
    ['hash used as its own preimage', HASH, HASH, false],
    ['preimage 63 hex', PRE.slice(1), HASH, false],
    ['preimage 65 hex', `${PRE}0`, HASH, false],
    ['preimage non-hex', `${PRE.slice(2)}zz`, HASH, false],
    ['hash non-hex', PRE, `${HASH.slice(2)}zz`, false],
    ['hash too short', PRE, HASH.slice(2), false],
    ['empty', '', '', false],
    ['preimage with whitespace', ` ${PRE.slice(1)}`, HASH, false],
  ])('verifyPreimage: %s → %s', (_, pre, hash, want) => {
    expect(verifyPreimage(pre, hash)).toBe(want);
  });

  it('verifyPreimage treats non-string input as no match', () => {
    expect(verifyPreimage(undefined as unknown as string, HASH)).toBe(false);
    expect(verifyPreimage(PRE, null as unknown as string)).toBe(false);
  });

  it('assertPreimage returns the lower-case preimage or throws bad_preimage', () => {
    expect(assertPreimage('A1'.repeat(32), paymentHashOf('a1'.repeat(32)))).toBe('a1'.repeat(32));
    expect(() => assertPreimage('01'.repeat(32), HASH)).toThrow(expect.objectContaining({ code: 'bad_preimage' }));
  });

  it.each([
    ['short', 'ab'],
    ['non-hex', 'zz'.repeat(32)],
    ['empty', ''],
  ])('paymentHashOf refuses %s', (_, v) => {
    try {
      paymentHashOf(v);
      expect.unreachable();
    } catch (e) {
      expect(isL402Error(e, 'bad_preimage')).toBe(true);
    }
  });
});
