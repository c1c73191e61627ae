// Batch-kernel throughput beside a plain memory-read baseline over the same bytes, in the same run: GB/s of
// vector data streamed. The JS baseline uses eight accumulators so it is a fair "read every double once" lower
// bound on time for JS, not a latency-bound single chain; the SIMD kernel is also shown against a SIMD read.
import { cosineBatch } from '../server/similarity/cosine.ts';
import { batchKernel, simdReadBaseline } from '../server/similarity/wasm-kernel.ts';

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

/** Median and range of `xs`. */
export function spread(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

let sink = 0;
/** Seconds for one call of `f` (its numeric result is kept so nothing is optimised away). */
function time(f: () => number): number {
  const s = performance.now();
  sink += f();
  return (performance.now() - s) / 1000;
}

/**
 * `kernel` and `baseline` timed alternately `reps` times (so load from other processes hits both alike); the
 * ratio is the median of the per-pair time ratios, with its range.
 */
function paired(kernel: () => number, baseline: () => number, reps: number) {
  for (let i = 0; i < 3; i++) time(kernel) + time(baseline); // JIT warm-up
  const tk: number[] = [];
  const tb: number[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < reps; r++) {
    const k = time(kernel);
    const b = time(baseline);
    tk.push(k);
    tb.push(b);
    ratio.push(k / b);
  }
  if (sink === 42.4242) process.stdout.write('');
  return { tk: spread(tk).median, tb: spread(tb).median, ratio: spread(ratio) };
}

export interface KernelResult {
  kernel: 'wasm-simd-f32' | 'js-f32' | 'js-f64';
  dims: number;
  rows: number;
  bytes: number;
  kernel_gb_s: number;
  baseline_gb_s: number;
  /** kernel time / baseline time, median of paired runs (1 = as fast as just reading the data in JS). */
  kernel_vs_baseline: number;
  kernel_vs_baseline_min: number;
  kernel_vs_baseline_max: number;
  /** The same bytes read with WebAssembly SIMD (four f32x4 accumulators), when the kernel is SIMD. */
  simd_read_gb_s?: number;
  kernel_vs_simd_read?: number;
}

/** The float64 JS kernel (JSON bodies) over `rows` × `dims`, beside the JS read of the same bytes. */
export function measureKernel(dims: number, rows: number, reps = 15): KernelResult {
  const m = new Float64Array(dims * rows);
  for (let i = 0; i < m.length; i++) m[i] = Math.sin(i * 0.618) + 1.1;
  const q = m.slice(0, dims);
  const out = new Float64Array(rows);
  const bytes = m.byteLength;
  const p = paired(
    () => cosineBatch(q, m, rows, out)[0]!,
    () => sumBaseline(m),
    reps,
  );
  return {
    kernel: 'js-f64',
    dims,
    rows,
    bytes,
    kernel_gb_s: bytes / p.tk / 1e9,
    baseline_gb_s: bytes / p.tb / 1e9,
    kernel_vs_baseline: p.ratio.median,
    kernel_vs_baseline_min: p.ratio.min,
    kernel_vs_baseline_max: p.ratio.max,
  };
}

/**
 * The float32 kernel binary bodies use (SIMD when it loaded) over `bytes` of rows, in its own memory, beside a
 * plain JS read of those same bytes (as float64 words, the fastest JS read) and a SIMD read of them.
 */
export function measureSimdKernel(dims: number, bytes: number, reps = 15): KernelResult {
  const rows = Math.floor(bytes / 4 / dims);
  const ws = batchKernel.prepare(dims, rows);
  for (let i = 0; i < ws.matrix.length; i++) ws.matrix[i] = Math.sin(i * 0.618) + 1.1;
  let qq = 0;
  for (let i = 0; i < dims; i++) {
    ws.query[i] = ws.matrix[i]!;
    qq += ws.query[i]! * ws.query[i]!;
  }
  const words = new Float64Array(ws.matrix.buffer, ws.matrix.byteOffset, Math.floor(ws.matrix.byteLength / 8));
  const read = simdReadBaseline();
  const p = paired(
    () => batchKernel.run(qq).scores[0]!,
    () => sumBaseline(words),
    reps,
  );
  const s = read
    ? paired(
        () => batchKernel.run(qq).scores[0]!,
        () => read(ws.matrix),
        reps,
      )
    : null;
  const n = ws.matrix.byteLength;
  return {
    kernel: batchKernel.kind === 'wasm-simd' ? 'wasm-simd-f32' : 'js-f32',
    dims,
    rows,
    bytes: n,
    kernel_gb_s: n / p.tk / 1e9,
    baseline_gb_s: n / p.tb / 1e9,
    kernel_vs_baseline: p.ratio.median,
    kernel_vs_baseline_min: p.ratio.min,
    kernel_vs_baseline_max: p.ratio.max,
    ...(s ? { simd_read_gb_s: n / s.tb / 1e9, kernel_vs_simd_read: s.ratio.median } : {}),
  };
}
