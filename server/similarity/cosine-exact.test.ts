// Cosine at extreme magnitudes: the API's answers for the cases that used to overflow or underflow, and a
// property test of the pair, batch and top-k paths against an exact BigInt reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buyToken, fixture, post } from '../../test/support/server-fixtures.ts';
import { cosine, cosineAt, cosineBatch, topK } from './cosine.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);
const EPS = 2 ** -53;
/** The bound stated in cosine.ts. */
const bound = (dims: number): number => (2 * dims + 4) * EPS;

/** Every float64 is an integer multiple of 2⁻¹⁰⁷⁴; `exact(x)` is that integer. */
function exact(x: number): bigint {
  if (x === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = e === 0 ? frac : frac | (1n << 52n);
  const v = mant << BigInt(Math.max(e - 1, 0));
  return x < 0 ? -v : v;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Cosine from exact integer sums, rounded once at the end (error ~2⁻²⁰⁰, far below the kernel's). */
function reference(a: readonly number[], b: readonly number[]): number {
  let d = 0n;
  let aa = 0n;
  let bb = 0n;
  for (let i = 0; i < a.length; i++) {
    const x = exact(a[i]!);
    const y = exact(b[i]!);
    d += x * y;
    aa += x * x;
    bb += y * y;
  }
  // 200 extra bits in the square root as well, or small integers (subnormal inputs) would truncate it.
  const SHIFT = 200n;
  return Number((d << (2n * SHIFT)) / isqrt((aa * bb) << (2n * SHIFT))) / 2 ** Number(SHIFT);
}

describe('cosine at extreme magnitudes', () => {
  const cases: [string, number[], number[], number][] = [
    ['1e154 with itself (the product of the norms overflows)', [1e154], [1e154], 1],
    ['3e100,4e100 vs 4e100,3e100', [3e100, 4e100], [4e100, 3e100], 0.96],
    ['1e-100 orthogonal (the sums underflow to 0)', [1e-100, 0], [0, 1e-100], 0],
    ['1e-160 at 45° (the squares underflow)', [1e-160, 1e-160], [1e-160, 0], Math.SQRT1_2],
    ['1e-200 against 1', [1e-200], [1], 1],
    ['largest float64s', [Number.MAX_VALUE, Number.MAX_VALUE], [Number.MAX_VALUE, 0], Math.SQRT1_2],
    ['smallest subnormals', [5e-324, 5e-324], [-5e-324, -5e-324], -1],
    ['subnormal against huge', [5e-324, 0], [1e308, 1e308], Math.SQRT1_2],
  ];

  it.each(cases)('%s: pair, batch and GET/POST through the paid API', async (_name, a, b, want) => {
    expect(Math.abs(cosine(f64(a), f64(b)) - want)).toBeLessThanOrEqual(bound(a.length));
    expect(Math.abs(cosineAt(f64(a), f64([7, ...b]), 1, a.length) - want)).toBeLessThanOrEqual(bound(a.length));
    const got = cosineBatch(f64(a), f64([...b, ...a]), 2, new Float64Array(2));
    expect(Math.abs(got[0]! - want)).toBeLessThanOrEqual(bound(a.length));
    expect(1 - got[1]!).toBeLessThanOrEqual(bound(a.length));

    const f = fixture();
    const body = { a, b };
    const { authorization } = await buyToken(f, '/v1/similarity', body);
    const res = await post(f.app, '/v1/similarity', body, { authorization });
    expect(res.status).toBe(200);
    const { similarity } = (await res.json()) as { similarity: number };
    expect(Math.abs(similarity - want)).toBeLessThanOrEqual(bound(a.length));
  });

  it('gives exactly 1 for a vector with itself at 1e154 (as the issue case asks)', () => {
    expect(cosine(f64([1e154]), f64([1e154]))).toBe(1);
  });

  it('ranks the extreme rows by their true similarity in a batch; the best row is never null', async () => {
    const f = fixture();
    const body = {
      query: [1e-100, 0],
      vectors: [
        [0, 1e-100],
        [1e-160, 1e-160],
        [3e100, 1e100],
        [1e-200, 0],
      ],
      top_k: 4,
    };
    const { authorization } = await buyToken(f, '/v1/similarity/batch', body);
    const res = await post(f.app, '/v1/similarity/batch', body, { authorization });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { index: number; similarity: number | null }[] };
    expect(results.map((r) => r.index)).toEqual([3, 2, 1, 0]);
    for (const r of results) expect(typeof r.similarity).toBe('number');
    expect(results[0]!.similarity).toBe(1);
  });

  it('topK ranks NaN after every number, whatever its position', () => {
    const scores = f64([Number.NaN, -1, 0.5, Number.NaN, -0.25]);
    expect(topK(scores, 5).map((r) => r.index)).toEqual([2, 4, 1, 0, 3]);
    expect(topK(f64([Number.NaN, Number.NaN, -1]), 1)).toEqual([{ index: 2, similarity: -1 }]);
  });
});

/** Any finite float64 (fast-check draws uniformly over the bit patterns, so every exponent is covered). */
const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Vectors that share one magnitude, so the angle between them is not dominated by one element. */
const scaled = (dims: number) =>
  fc
    .tuple(
      fc.integer({ min: -1074, max: 1020 }),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: dims, maxLength: dims }),
    )
    .map(([e, xs]) => xs.map((x) => x * 2 ** Math.max(e, -1022) * (e < -1022 ? 2 ** (e + 1022) : 1)));
const vectorOf = (dims: number) => fc.oneof(fc.array(anyDouble, { minLength: dims, maxLength: dims }), scaled(dims));
const nonZero = (v: number[]): boolean => v.some((x) => x !== 0);

describe('cosine vs an exact reference (property)', () => {
  it('pair: within (2d + 4)·2⁻⁵³ of the exact value, for every finite non-zero input', () => {
    const pair = fc.integer({ min: 1, max: 24 }).chain((d) => fc.tuple(vectorOf(d), vectorOf(d)));
    fc.assert(
      fc.property(pair, ([a, b]) => {
        fc.pre(nonZero(a) && nonZero(b));
        const got = cosine(f64(a), f64(b));
        expect(Math.abs(got - reference(a, b))).toBeLessThanOrEqual(bound(a.length));
      }),
      { numRuns: 400 },
    );
  });

  it('batch and top-k: every row within the bound, and the first ranked row has the best exact score', () => {
    const batch = fc
      .integer({ min: 1, max: 20 })
      .chain((d) => fc.tuple(vectorOf(d), fc.array(vectorOf(d), { minLength: 1, maxLength: 6 })));
    fc.assert(
      fc.property(batch, ([q, rows]) => {
        fc.pre(nonZero(q) && rows.every(nonZero));
        const out = cosineBatch(f64(q), f64(rows.flat()), rows.length, new Float64Array(rows.length));
        const want = rows.map((r) => reference(q, r));
        for (let r = 0; r < rows.length; r++) expect(Math.abs(out[r]! - want[r]!)).toBeLessThanOrEqual(bound(q.length));
        const best = topK(out, 1)[0]!;
        expect(Number.isNaN(best.similarity)).toBe(false);
        expect(want[best.index]!).toBeGreaterThanOrEqual(Math.max(...want) - 2 * bound(q.length));
      }),
      { numRuns: 300 },
    );
  });
});
