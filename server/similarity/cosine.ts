// Cosine similarity kernel (docs/design.md#the-server). Float64 accumulation over Float64Array, four independent
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
  const end4 = dims - (dims % 4);
  // Separate loop variables for body and tail: sharing one `i` across both loops made V8 compile the
  // body several times slower (measured in bench/).
  for (let i = 0; i < end4; i += 4) {
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
  for (let j = end4; j < dims; j++) {
    const qi = q[j]!;
    const mi = m[offset + j]!;
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
 * columns), written into `out` (length ≥ count). Work is count × dims. The query norm is computed
 * once, and the row loop is inlined (no call per row) with one running index, so each element costs
 * one load and two multiply-adds: this is what keeps the kernel near memory speed (bench/).
 */
export function cosineBatch(query: Float64Array, matrix: Float64Array, count: number, out: Float64Array): Float64Array {
  const dims = query.length;
  if (dims <= NARROW) return cosineBatchNarrow(query, matrix, count, out);
  let qq = 0;
  for (let i = 0; i < dims; i++) qq += query[i]! * query[i]!;
  const end4 = dims - (dims % 4);
  let p = 0;
  for (let r = 0; r < count; r++) {
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let m0 = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    for (let i = 0; i < end4; i += 4, p += 4) {
      const x0 = matrix[p]!;
      const x1 = matrix[p + 1]!;
      const x2 = matrix[p + 2]!;
      const x3 = matrix[p + 3]!;
      d0 += query[i]! * x0;
      d1 += query[i + 1]! * x1;
      d2 += query[i + 2]! * x2;
      d3 += query[i + 3]! * x3;
      m0 += x0 * x0;
      m1 += x1 * x1;
      m2 += x2 * x2;
      m3 += x3 * x3;
    }
    for (let j = end4; j < dims; j++, p++) {
      const x = matrix[p]!;
      d0 += query[j]! * x;
      m0 += x * x;
    }
    const s = (d0 + d1 + (d2 + d3)) / Math.sqrt(qq * (m0 + m1 + (m2 + m3)));
    out[r] = Math.min(1, Math.max(-1, s));
  }
  return out;
}

/** Rows this short take the narrow kernel. */
const NARROW = 8;

/**
 * cosineBatch for rows of at most 8 values: with so few per row, the inner loop's set-up and the query reloads
 * cost more than the arithmetic (3.3× a plain memory read at 8 dims, bench/). Here the query sits in locals and
 * each row is one straight-line body; the `dims > k` tests never change within a call, so they predict perfectly
 * (1.9× the memory read at 8 dims in the same run).
 */
function cosineBatchNarrow(query: Float64Array, matrix: Float64Array, count: number, out: Float64Array): Float64Array {
  const dims = query.length;
  const q0 = query[0] ?? 0;
  const q1 = dims > 1 ? query[1]! : 0;
  const q2 = dims > 2 ? query[2]! : 0;
  const q3 = dims > 3 ? query[3]! : 0;
  const q4 = dims > 4 ? query[4]! : 0;
  const q5 = dims > 5 ? query[5]! : 0;
  const q6 = dims > 6 ? query[6]! : 0;
  const q7 = dims > 7 ? query[7]! : 0;
  const qq = q0 * q0 + q1 * q1 + (q2 * q2 + q3 * q3) + (q4 * q4 + q5 * q5 + (q6 * q6 + q7 * q7));
  for (let r = 0, p = 0; r < count; r++, p += dims) {
    const x0 = matrix[p]!;
    const x1 = dims > 1 ? matrix[p + 1]! : 0;
    const x2 = dims > 2 ? matrix[p + 2]! : 0;
    const x3 = dims > 3 ? matrix[p + 3]! : 0;
    const x4 = dims > 4 ? matrix[p + 4]! : 0;
    const x5 = dims > 5 ? matrix[p + 5]! : 0;
    const x6 = dims > 6 ? matrix[p + 6]! : 0;
    const x7 = dims > 7 ? matrix[p + 7]! : 0;
    const d = q0 * x0 + q1 * x1 + (q2 * x2 + q3 * x3) + (q4 * x4 + q5 * x5 + (q6 * x6 + q7 * x7));
    const mm = x0 * x0 + x1 * x1 + (x2 * x2 + x3 * x3) + (x4 * x4 + x5 * x5 + (x6 * x6 + x7 * x7));
    let s = d / Math.sqrt(qq * mm);
    // Branches, not Math.min/max: measurably faster here (bench/), and they almost never run.
    if (s > 1) s = 1;
    else if (s < -1) s = -1;
    out[r] = s;
  }
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
