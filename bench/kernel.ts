// Batch-kernel throughput beside a plain memory-read baseline over the same bytes, in the same run
// (docs/design.md#quality-bars): GB/s of vector data streamed. The baseline uses eight accumulators so it is a
// fair "read every double once" lower bound on time, not a latency-bound single chain.
import { cosineBatch } from '../server/similarity/cosine.ts';

/**
 * Sum of all elements with eight independent accumulators (the fastest plain read loop measured
 * here; separate loop variables for body and tail, which V8 compiles much better).
 */
export function sumBaseline(m: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  const n = m.length - (m.length % 8);
  for (let i = 0; i < n; i += 8) {
    s0 += m[i]!;
    s1 += m[i + 1]!;
    s2 += m[i + 2]!;
    s3 += m[i + 3]!;
    s4 += m[i + 4]!;
    s5 += m[i + 5]!;
    s6 += m[i + 6]!;
    s7 += m[i + 7]!;
  }
  for (let j = n; j < m.length; j++) s0 += m[j]!;
  return s0 + s1 + (s2 + s3) + (s4 + s5) + (s6 + s7);
}

/** Best-of-`reps` seconds for one call of `f` (best = least disturbed by other load on the machine). */
function best(f: () => unknown, reps: number): number {
  let sink = 0;
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    const v = f();
    t = Math.min(t, (performance.now() - s) / 1000);
    if (typeof v === 'number') sink += v;
  }
  if (sink === 42.4242) process.stdout.write(''); // keep results observable so nothing is optimised away
  return t;
}

export interface KernelResult {
  dims: number;
  rows: number;
  bytes: number;
  kernel_gb_s: number;
  baseline_gb_s: number;
  /** kernel time / baseline time (1 = as fast as just reading the data). */
  kernel_vs_baseline: number;
}

/** Measures `rows` × `dims` (matrix filled with pseudo-random values). */
export function measureKernel(dims: number, rows: number, reps = 15): KernelResult {
  const m = new Float64Array(dims * rows);
  for (let i = 0; i < m.length; i++) m[i] = Math.sin(i * 0.618) + 1.1;
  const q = m.slice(0, dims);
  const out = new Float64Array(rows);
  const bytes = m.byteLength;
  // Warm up both paths so the JIT has compiled them before timing.
  best(() => cosineBatch(q, m, rows, out)[0], 3);
  best(() => sumBaseline(m), 3);
  const tk = best(() => cosineBatch(q, m, rows, out)[0], reps);
  const tb = best(() => sumBaseline(m), reps);
  return { dims, rows, bytes, kernel_gb_s: bytes / tk / 1e9, baseline_gb_s: bytes / tb / 1e9, kernel_vs_baseline: tk / tb };
}
