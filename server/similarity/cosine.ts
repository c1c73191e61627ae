// Cosine similarity kernel (docs/design.md#the-server). Float64 accumulation over Float64Array, four independent
// accumulators per sum so the adds pipeline instead of waiting on one dependency chain, and no
// allocation inside the loops.
//
// Every finite input is handled (as careful norm routines do, e.g. LAPACK's dnrm2): the fast path sums
// unscaled, and is kept only when both sums of squares lie in [2⁻⁶⁰⁰, 2⁶⁰⁰], where no product can
// overflow and what underflows is below 2⁻⁴⁷⁵ relative to the result. Otherwise that pair (or row) is
// recomputed in two passes: find each vector's largest |x|, scale each vector by a power of two that brings it to
// ~1 (exact, and cosine does not change under scaling), then sum. Cosine is scale-invariant, so 1e-200 and
// 1e154 vectors give the same answer as 1-sized ones.
//
// Error bound (ε = 2⁻⁵³, d = dimensions): |computed − exact| ≤ (2d + 4)·ε absolute, for every finite,
// non-zero input (the dot product's error is ≤ d·ε·‖a‖‖b‖, each norm's relative error ≤ (d/2 + 1)·ε);
// about 9e-13 at d = 4096. The result is clamped to [-1, 1] so rounding never yields |similarity| > 1.

/** Sums of squares outside [LO, HI] take the scaled path (see above). */
const LO = 2 ** -600;
const HI = 2 ** 600;

/**
 * Cosine of `q[qOff…]` and `m[mOff…]` (`dims` long each) with each vector scaled by a power of two first:
 * the slow path, for magnitudes whose plain sums would overflow or underflow.
 */
function scaledCosine(q: Float64Array, qOff: number, m: Float64Array, mOff: number, dims: number): number {
  let qMax = 0;
  let mMax = 0;
  for (let i = 0; i < dims; i++) {
    const x = Math.abs(q[qOff + i]!);
    const y = Math.abs(m[mOff + i]!);
    if (x > qMax) qMax = x;
    if (y > mMax) mMax = y;
  }
  // Two factors each, because 2^1074 (needed for the smallest subnormals) is not a float64.
  const qe = -Math.floor(Math.log2(qMax));
  const me = -Math.floor(Math.log2(mMax));
  const qs1 = 2 ** Math.trunc(qe / 2);
  const qs2 = 2 ** (qe - Math.trunc(qe / 2));
  const ms1 = 2 ** Math.trunc(me / 2);
  const ms2 = 2 ** (me - Math.trunc(me / 2));
  let d = 0;
  let qq = 0;
  let mm = 0;
  for (let i = 0; i < dims; i++) {
    const x = q[qOff + i]! * qs1 * qs2;
    const y = m[mOff + i]! * ms1 * ms2;
    d += x * y;
    qq += x * x;
    mm += y * y;
  }
  return clamp(d / (Math.sqrt(qq) * Math.sqrt(mm)));
}

function clamp(s: number): number {
  return Math.min(1, Math.max(-1, s));
}

/** Whether a sum of squares is in the fast path's safe range (false for 0, Infinity and NaN too). */
function safe(ss: number): boolean {
  return ss >= LO && ss <= HI;
}

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
  const qq = qq0 + qq1;
  const mm = mm0 + mm1;
  if (!safe(qq) || !safe(mm)) return scaledCosine(q, 0, m, offset, dims);
  return clamp((d0 + d1 + (d2 + d3)) / (Math.sqrt(qq) * Math.sqrt(mm)));
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
  // A query of extreme magnitude sends every row to the scaled path; rows are checked one by one below.
  const queryOk = safe(qq);
  const qNorm = Math.sqrt(qq);
  let mmMin = Number.POSITIVE_INFINITY;
  let mmMax = 0;
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
    const mm = m0 + m1 + (m2 + m3);
    // Branch-free range tracking (minsd/maxsd); checked once after the loop.
    mmMin = Math.min(mmMin, mm);
    mmMax = Math.max(mmMax, mm);
    out[r] = Math.min(1, Math.max(-1, (d0 + d1 + (d2 + d3)) / (qNorm * Math.sqrt(mm))));
  }
  if (!queryOk || !(mmMin >= LO && mmMax <= HI)) rescoreUnsafeRows(query, matrix, count, out, queryOk);
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
  const queryOk = safe(qq);
  const qNorm = Math.sqrt(qq);
  let mmMin = Number.POSITIVE_INFINITY;
  let mmMax = 0;
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
    // Branch-free range tracking (minsd/maxsd); checked once after the loop.
    mmMin = Math.min(mmMin, mm);
    mmMax = Math.max(mmMax, mm);
    let s = d / (qNorm * Math.sqrt(mm));
    // Branches, not Math.min/max: measurably faster here (bench/), and they almost never run.
    if (s > 1) s = 1;
    else if (s < -1) s = -1;
    out[r] = s;
  }
  if (!queryOk || !(mmMin >= LO && mmMax <= HI)) rescoreUnsafeRows(query, matrix, count, out, queryOk);
  return out;
}

/**
 * The batch kernels' slow path, kept out of their loops (a call there slowed the narrow kernel ~2×, bench/):
 * rescores with {@link scaledCosine} every row whose sum of squares is out of the safe range, or every row when
 * the query's is.
 */
function rescoreUnsafeRows(
  query: Float64Array,
  matrix: Float64Array,
  count: number,
  out: Float64Array,
  queryOk: boolean,
): void {
  const dims = query.length;
  for (let r = 0, p = 0; r < count; r++, p += dims) {
    let mm = 0;
    for (let i = 0; i < dims; i++) mm += matrix[p + i]! * matrix[p + i]!;
    if (!queryOk || !safe(mm)) out[r] = scaledCosine(query, 0, matrix, p, dims);
  }
}

/** Sort key: NaN (never produced for validated input, but a row must not rank first by accident) sorts last. */
function rankKey(s: number): number {
  return Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
}

/**
 * The `k` best rows by similarity, best first; ties keep the lower index first (deterministic output); a NaN
 * score ranks after every number.
 * @example topK(cosineBatch(q, m, n, new Float64Array(n)), 10)
 */
export function topK(scores: Float64Array, k: number): Ranked[] {
  const n = scores.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((x, y) => {
    const kx = rankKey(scores[x]!);
    const ky = rankKey(scores[y]!);
    return ky > kx ? 1 : ky < kx ? -1 : x - y;
  });
  const take = Math.min(k, n);
  const out: Ranked[] = new Array(take);
  for (let i = 0; i < take; i++) {
    const index = idx[i]!;
    out[i] = { index, similarity: scores[index]! };
  }
  return out;
}
