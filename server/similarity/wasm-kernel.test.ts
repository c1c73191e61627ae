// The SIMD kernel against the JS reference (float64 sums over the same float32 inputs): property-tested within
// the documented tolerance (server/README.md), and the heap top-k against the full-sort topK.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topK } from './cosine.ts';
import { selectTopK } from './top-k.ts';
import { batchKernel, referenceKernel } from './wasm-kernel.ts';

/** The stated bound on |SIMD − reference| for `dims`: (dims / 16 + 8) float32 ulps of 1. */
const tolerance = (dims: number): number => (dims / 16 + 8) * 2 ** -23;

/** Runs one batch through a kernel; the results are copied out of the shared workspace. */
function score(kernel = batchKernel, query: Float32Array, matrix: Float32Array) {
  const ws = kernel.prepare(query.length, matrix.length / query.length);
  ws.query.set(query);
  ws.matrix.set(matrix);
  let qq = 0;
  for (const x of query) qq += x * x;
  const r = kernel.run(qq);
  return { scores: r.scores.slice(), norms: r.norms.slice() };
}

// Magnitudes the float32 path handles itself (the binary-body layer sends the rest to float64).
const value = fc
  .float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true })
  .filter((x) => Math.abs(x) > 1e-3);
const batch = (dims: fc.Arbitrary<number>) =>
  dims.chain((d) =>
    fc.record({
      query: fc.array(value, { minLength: d, maxLength: d }),
      rows: fc.array(fc.array(value, { minLength: d, maxLength: d }), { minLength: 1, maxLength: 37 }),
    }),
  );

describe('SIMD batch kernel', () => {
  it('is the WebAssembly SIMD kernel here (wabt is installed), not the fallback', () => {
    expect(batchKernel.kind).toBe('wasm-simd');
  });

  for (const [name, dims] of [
    ['any width 1–100', fc.integer({ min: 1, max: 100 })],
    ['8 (the four-row path)', fc.constant(8)],
    ['1536', fc.constant(1536)],
  ] as const) {
    it(`agrees with the reference within (dims/16 + 8)·2⁻²³: ${name}`, () => {
      fc.assert(
        fc.property(batch(dims), ({ query, rows }) => {
          const q = Float32Array.from(query);
          const m = Float32Array.from(rows.flat());
          const simd = score(batchKernel, q, m);
          const ref = score(referenceKernel(), q, m);
          for (let r = 0; r < rows.length; r++) {
            expect(Math.abs(simd.scores[r]! - ref.scores[r]!)).toBeLessThanOrEqual(tolerance(q.length));
            expect(Math.abs(simd.scores[r]!)).toBeLessThanOrEqual(1);
            expect(Math.abs(simd.norms[r]! - ref.norms[r]!)).toBeLessThanOrEqual(ref.norms[r]! * tolerance(q.length));
          }
        }),
        { numRuns: name === '1536' ? 20 : 100 },
      );
    });
  }

  it('scores a row identical to the query as 1 and its negation as -1', () => {
    const q = Float32Array.from({ length: 8 }, (_, i) => i + 1);
    const m = new Float32Array([...q, ...q.map((x) => -x), ...q, ...q, ...q]);
    const { scores } = score(batchKernel, q, m);
    expect(Array.from(scores).map((s) => Math.round(s * 1e6) / 1e6)).toEqual([1, -1, 1, 1, 1]);
  });

  it('reports a non-finite squared norm for a row with Infinity or NaN (the caller redoes those rows)', () => {
    const q = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const m = new Float32Array(32).fill(1);
    m[9] = Number.POSITIVE_INFINITY;
    m[20] = Number.NaN;
    const { norms } = score(batchKernel, q, m);
    expect([
      Number.isFinite(norms[0]!),
      Number.isFinite(norms[1]!),
      Number.isFinite(norms[2]!),
      Number.isFinite(norms[3]!),
    ]).toEqual([true, false, false, true]);
  });
});

describe('selectTopK', () => {
  it('returns what the full sort returns, ties by lower index', () => {
    const scores = fc.array(fc.constantFrom(-1, -0.5, 0, 0.25, 0.5, 1, 0.123), { minLength: 0, maxLength: 60 });
    fc.assert(
      fc.property(scores, fc.integer({ min: 0, max: 70 }), (s, k) => {
        expect(selectTopK(Float64Array.from(s), k)).toEqual(topK(Float64Array.from(s), k));
      }),
    );
  });
});
