// The float32 batch-cosine kernel: WebAssembly SIMD (cosine-simd.wat, assembled by the `wabt` package when this
// module loads) with a plain-JS fallback that is also the reference the tests compare against. Both work on one
// reusable workspace: `prepare` hands out views to fill, `run` computes, and the views stay valid only until the
// next `prepare`, so callers use it synchronously (no await between prepare and reading the results).
import { readFileSync } from 'node:fs';

/** Views of the kernel's memory for one batch. */
export interface BatchWorkspace {
  query: Float32Array;
  /** count × dims, row-major. */
  matrix: Float32Array;
}

/** What one run produces (views into the workspace). */
export interface BatchRun {
  /** Similarity per row, clamped to [-1, 1]. */
  scores: Float64Array;
  /** Each row's squared norm as the kernel summed it (float32): the caller redoes rows float32 cannot handle. */
  norms: Float32Array;
}

export interface BatchKernel {
  readonly kind: 'wasm-simd' | 'js';
  prepare(dims: number, count: number): BatchWorkspace;
  /** `qq` is the query's squared norm in float64. */
  run(qq: number): BatchRun;
}

/**
 * The reference: float64 sums over float32 inputs, one row at a time. Also the fallback kernel and the path
 * for rows the float32 sums cannot represent.
 */
export function cosineRowF32(
  query: Float32Array,
  matrix: Float32Array,
  row: number,
  qq: number,
): { score: number; mm: number } {
  const dims = query.length;
  let d = 0;
  let mm = 0;
  for (let i = 0, p = row * dims; i < dims; i++, p++) {
    const x = matrix[p]!;
    d += query[i]! * x;
    mm += x * x;
  }
  return { score: Math.min(1, Math.max(-1, d / Math.sqrt(qq * mm))), mm };
}

function jsKernel(): BatchKernel {
  let ws: BatchWorkspace = { query: new Float32Array(0), matrix: new Float32Array(0) };
  let count = 0;
  return {
    kind: 'js',
    prepare(dims, n) {
      count = n;
      ws = { query: new Float32Array(dims), matrix: new Float32Array(dims * n) };
      return ws;
    },
    run(qq) {
      const scores = new Float64Array(count);
      const norms = new Float32Array(count);
      for (let r = 0; r < count; r++) {
        const { score, mm } = cosineRowF32(ws.query, ws.matrix, r, qq);
        scores[r] = score;
        norms[r] = mm;
      }
      return { scores, norms };
    },
  };
}

interface SimdExports {
  memory: WebAssembly.Memory;
  cosine_batch(q: number, m: number, dims: number, count: number, out: number, norms: number, qq: number): void;
  sum_f32(p: number, n: number): number;
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The SIMD kernel over an instance's memory, which grows to the largest batch seen and stays that size. */
function simdKernel(x: SimdExports): BatchKernel {
  let at = { q: 0, m: 0, out: 0, norms: 0, dims: 0, count: 0 };
  let ws: BatchWorkspace | null = null;
  return {
    kind: 'wasm-simd',
    prepare(dims, count) {
      const q = 0;
      const m = align(dims * 4, 16);
      const out = align(m + dims * count * 4, 16);
      const norms = out + count * 8;
      const need = align(norms + count * 4 + 16, 65536);
      if (need > x.memory.buffer.byteLength) x.memory.grow((need - x.memory.buffer.byteLength) / 65536);
      at = { q, m, out, norms, dims, count };
      ws = {
        query: new Float32Array(x.memory.buffer, q, dims),
        matrix: new Float32Array(x.memory.buffer, m, dims * count),
      };
      return ws;
    },
    run(qq) {
      if (!ws || ws.query.buffer !== x.memory.buffer) throw new Error('prepare() first');
      x.cosine_batch(at.q, at.m, at.dims, at.count, at.out, at.norms, qq);
      return {
        scores: new Float64Array(x.memory.buffer, at.out, at.count),
        norms: new Float32Array(x.memory.buffer, at.norms, at.count),
      };
    },
  };
}

/** Assembles and instantiates the .wat; null (and the JS kernel is used) when wabt or SIMD is unavailable. */
async function loadSimd(): Promise<SimdExports | null> {
  try {
    const wabt = await (await import('wabt')).default();
    const source = readFileSync(new URL('./cosine-simd.wat', import.meta.url), 'utf8');
    const mod = wabt.parseWat('cosine-simd.wat', source, { simd: true });
    try {
      mod.validate();
      const { buffer } = mod.toBinary({});
      const instance = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(buffer)));
      return instance.exports as unknown as SimdExports;
    } finally {
      mod.destroy();
    }
  } catch {
    return null;
  }
}

const simd = process.env.L402_KERNEL === 'js' ? null : await loadSimd();

/** The kernel in use: SIMD when it loaded (set L402_KERNEL=js to force the fallback). */
export const batchKernel: BatchKernel = simd ? simdKernel(simd) : jsKernel();

/** A fresh JS kernel (the reference), for tests and the benchmark. */
export const referenceKernel = (): BatchKernel => jsKernel();

/**
 * The SIMD memory-read baseline: the sum of a view into the kernel's memory (e.g. a workspace's `matrix`; a
 * length not a multiple of 16 drops the tail), or null without SIMD. Only for the benchmark.
 */
export function simdReadBaseline(): ((view: Float32Array) => number) | null {
  return simd ? (v) => simd.sum_f32(v.byteOffset, v.length - (v.length % 16)) : null;
}
