import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  isBase64,
  isL402Error,
  L402Error,
  timingSafeEqual,
} from './index.ts';

describe('base64', () => {
  it.each([
    ['AAE=', [0, 1]],
    ['AAE', [0, 1]],
    ['AAEC', [0, 1, 2]],
    ['+/8=', [251, 255]],
    ['-_8', [251, 255]],
    ['-_8=', [251, 255]],
  ])('decodes %s', (s, want) => {
    expect(Array.from(base64ToBytes(s)!)).toEqual(want);
  });

  it.each([
    ['', 'empty'],
    ['==', 'padding only'],
    ['A', 'impossible length'],
    ['AAAAA', 'impossible length'],
    ['AB=', 'short padding'],
    ['ABC==', 'extra padding'],
    ['AB===', 'three pads'],
    ['ab+_', 'mixed alphabets'],
    ['AA AA', 'space'],
    ['AA\nAA', 'newline'],
    ['A=A=', 'padding inside'],
  ])('refuses %j (%s)', (s) => {
    expect(isBase64(s)).toBe(false);
    expect(base64ToBytes(s)).toBeNull();
  });

  it('round-trips arbitrary bytes, padded standard alphabet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200_000 }), (b) => {
        const s = bytesToBase64(b);
        expect(s).toBe(Buffer.from(b).toString('base64'));
        if (b.length > 0) expect(base64ToBytes(s)).toEqual(b);
      }),
      { numRuns: 50 },
    );
  });
});

describe('hex and timingSafeEqual', () => {
  it('hex', () => {
    expect(bytesToHex(Uint8Array.from([0, 171, 255]))).toBe('00abff');
    expect(Array.from(hexToBytes('00ABff')!)).toEqual([0, 171, 255]);
    expect(hexToBytes('abc')).toBeNull();
    expect(hexToBytes('zz')).toBeNull();
    expect(hexToBytes('')).toEqual(new Uint8Array(0));
  });

  it.each([
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [1, 2], false],
    [[], [], true],
  ])('timingSafeEqual(%j, %j) → %s', (a, b, want) => {
    expect(timingSafeEqual(Uint8Array.from(a), Uint8Array.from(b))).toBe(want);
  });
});

describe('L402Error', () => {
  it('carries its code and narrows with isL402Error', () => {
    const e = new L402Error('bad_invoice', 'x', { cause: 1 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('L402Error');
    expect(e.cause).toBe(1);
    expect(isL402Error(e)).toBe(true);
    expect(isL402Error(e, 'bad_invoice')).toBe(true);
    expect(isL402Error(e, 'bad_macaroon')).toBe(false);
    expect(isL402Error(new Error('x'))).toBe(false);
    expect(isL402Error({ code: 'bad_invoice' })).toBe(false);
  });
});
