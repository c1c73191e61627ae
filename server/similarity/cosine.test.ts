import { describe, expect, it } from 'vitest';
import { cosine, cosineBatch, topK } from './cosine.ts';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

/** Straightforward reference, for comparison. */
function naive(a: number[], b: number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return d / Math.sqrt(na * nb);
}

describe('cosine', () => {
  it('gives exact values for simple cases', () => {
    expect(cosine(f64([1, 0]), f64([0, 1]))).toBe(0);
    expect(cosine(f64([1, 2, 3]), f64([2, 4, 6]))).toBe(1);
    expect(cosine(f64([1, 2, 3]), f64([-1, -2, -3]))).toBe(-1);
    expect(cosine(f64([1, 1]), f64([1, 0]))).toBeCloseTo(Math.SQRT1_2, 15);
  });

  it('matches a naive float64 loop for every length 1..37 (unrolled body and tail)', () => {
    for (let n = 1; n <= 37; n++) {
      const a = Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 3);
      const b = Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) - 0.2);
      expect(Math.abs(cosine(f64(a), f64(b)) - naive(a, b))).toBeLessThan(1e-12);
    }
  });

  it('never leaves [-1, 1] through rounding', () => {
    const v = f64(Array.from({ length: 1536 }, (_, i) => 0.1 + i * 1e-3));
    const s = cosine(v, v);
    expect(s).toBeLessThanOrEqual(1);
    expect(s).toBeGreaterThan(1 - 1e-12);
  });
});

describe('cosineBatch + topK', () => {
  it('agrees with cosine() row by row for every width 1..20 (narrow kernel up to 8, general one above)', () => {
    for (let dims = 1; dims <= 20; dims++) {
      const rows = 7;
      const m = f64(Array.from({ length: dims * rows }, (_, i) => Math.sin(i * 1.3 + dims) * 4 - 0.5));
      const q = f64(Array.from({ length: dims }, (_, i) => Math.cos(i * 0.9 + dims) + 0.25));
      const got = cosineBatch(q, m, rows, new Float64Array(rows));
      for (let r = 0; r < rows; r++) {
        const row = m.subarray(r * dims, (r + 1) * dims);
        expect(Math.abs(got[r]! - naive(Array.from(q), Array.from(row)))).toBeLessThan(1e-12);
      }
    }
  });

  it('writes only `count` scores and clamps to [-1, 1] in both kernels', () => {
    for (const dims of [3, 12]) {
      const v = f64(Array.from({ length: dims }, (_, i) => 0.1 + i * 1e-3));
      const m = f64([...v, ...v.map((x) => -x)]);
      const out = new Float64Array(3).fill(7);
      cosineBatch(v, m, 2, out);
      expect(out[0]).toBeLessThanOrEqual(1);
      expect(out[0]).toBeGreaterThan(1 - 1e-12);
      expect(out[1]).toBeGreaterThanOrEqual(-1);
      expect(out[1]).toBeLessThan(-1 + 1e-12);
      expect(out[2]).toBe(7);
    }
  });

  it('scores each row and ranks best first, ties by lower index', () => {
    const q = f64([1, 0]);
    const m = f64([0, 1, 1, 0, 1, 1, 2, 0]);
    const scores = cosineBatch(q, m, 4, new Float64Array(4));
    expect(Array.from(scores)).toEqual([0, 1, cosine(q, f64([1, 1])), 1]);
    expect(topK(scores, 3)).toEqual([
      { index: 1, similarity: 1 },
      { index: 3, similarity: 1 },
      { index: 2, similarity: scores[2] },
    ]);
    expect(topK(scores, 10)).toHaveLength(4);
  });
});
