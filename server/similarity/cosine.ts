// Cosine similarity kernel (SPEC §4). Float64 accumulation over Float64Array, four independent
// accumulators per sum so the adds pipeline instead of waiting on one dependency chain, and no
// allocation inside the loops. Precision: each sum has a relative error bound of about d·ε
// (ε = 2⁻⁵³), so for d ≤ 4096 the result is within ~1e-12 of the exact value; it is clamped to
// [-1, 1] so rounding never yields |similarity| > 1.

/** Cosine of the angle between `a` and `b` (same length, neither all zero). */
export function cosine(a: Float64Array, b: Float64Array): number {
  return cosineAt(a, b, 0, a.length);
}

/**
 * Cosine of `q` against the `dims`-long row of `m` starting at `offset` (the batch layout: one
 * contiguous matrix, so the kernel streams memory linearly).
 */
export function cosineAt(q: Float64Array, m: Float64Array, offset: number, dims: number): number {
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  let qq0 = 0;
  let qq1 = 0;
  let mm0 = 0;
  let mm1 = 0;
  let i = 0;
  const end4 = dims - (dims % 4);
  for (; i < end4; i += 4) {
    const q0 = q[i]!;
    const q1 = q[i + 1]!;
    const q2 = q[i + 2]!;
    const q3 = q[i + 3]!;
    const m0 = m[offset + i]!;
    const m1 = m[offset + i + 1]!;
    const m2 = m[offset + i + 2]!;
    const m3 = m[offset + i + 3]!;
    d0 += q0 * m0;
    d1 += q1 * m1;
    d2 += q2 * m2;
    d3 += q3 * m3;
    qq0 += q0 * q0 + q2 * q2;
    qq1 += q1 * q1 + q3 * q3;
    mm0 += m0 * m0 + m2 * m2;
    mm1 += m1 * m1 + m3 * m3;
  }
  for (; i < dims; i++) {
    const qi = q[i]!;
    const mi = m[offset + i]!;
    d0 += qi * mi;
    qq0 += qi * qi;
    mm0 += mi * mi;
  }
  const s = (d0 + d1 + (d2 + d3)) / Math.sqrt((qq0 + qq1) * (mm0 + mm1));
  return Math.min(1, Math.max(-1, s));
}

/** One ranked batch result. */
export interface Ranked {
  index: number;
  similarity: number;
}

/**
 * Similarity of `query` against each of the `count` rows of `matrix` (row-major, `query.length`
 * columns), written into `out` (length ≥ count). Work is count × dims.
 */
export function cosineBatch(query: Float64Array, matrix: Float64Array, count: number, out: Float64Array): Float64Array {
  const dims = query.length;
  for (let r = 0; r < count; r++) out[r] = cosineAt(query, matrix, r * dims, dims);
  return out;
}

/**
 * The `k` best rows by similarity, best first; ties keep the lower index first (deterministic output).
 * @example topK(cosineBatch(q, m, n, new Float64Array(n)), 10)
 */
export function topK(scores: Float64Array, k: number): Ranked[] {
  const n = scores.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((x, y) => scores[y]! - scores[x]! || x - y);
  const take = Math.min(k, n);
  const out: Ranked[] = new Array(take);
  for (let i = 0; i < take; i++) {
    const index = idx[i]!;
    out[i] = { index, similarity: scores[index]! };
  }
  return out;
}
