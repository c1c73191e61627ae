// Binary batch bodies (format: src/toolkit/f32-batch.ts; server/README.md "Binary batch bodies"): header
// checks, limits, then the query and rows go straight into the SIMD kernel's memory. Validating the rows IS the
// kernel run (a non-finite or zero row shows in its squared norm), so the scores are computed here, before
// the gate, exactly as JSON bodies are fully parsed before the gate; nothing is charged for a refused body.
import { endianness } from 'node:os';
import {
  F32_BATCH_CONTENT_TYPE,
  F32_BATCH_HEADER_BYTES,
  F32_BATCH_MAGIC,
  F32_BATCH_VERSION,
  f32BatchBytes,
} from '../../src/toolkit/f32-batch.ts';
import { type BatchKernel, batchKernel, cosineRowF32 } from './wasm-kernel.ts';
import { DEFAULT_TOP_K, ValidationError, type VectorLimits } from './validate.ts';

/** A binary body for the batch route, already scored. */
interface BinaryBatch {
  dims: number;
  count: number;
  topK: number;
  /** vectors × dims, as for JSON (the price). */
  work: number;
  /** One similarity per row (a copy: the kernel's memory is reused by the next request). */
  scores: Float64Array;
}

/** True for the media types that carry this format (parameters such as `; charset` are ignored). */
export function isF32BatchBody(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return t === F32_BATCH_CONTENT_TYPE || t === 'application/octet-stream';
}

// Squared norms outside [2⁻⁶⁰, 2¹²⁶] lose float32 precision (subnormal terms) or may overflow in the
// kernel's float32 sums; such rows (and such queries) are computed in float64 instead.
const MIN_NORM2 = 2 ** -60;
const MAX_NORM2 = 2 ** 126;
const LITTLE_ENDIAN = endianness() === 'LE';

interface Header {
  dims: number;
  count: number;
  topK: number;
}

function readHeader(body: Uint8Array, limits: VectorLimits): Header {
  if (body.byteLength < F32_BATCH_HEADER_BYTES) {
    throw new ValidationError(
      'invalid_binary',
      null,
      `binary body is ${body.byteLength} bytes; the header alone is ${F32_BATCH_HEADER_BYTES}`,
    );
  }
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const magic = String.fromCharCode(v.getUint8(0), v.getUint8(1), v.getUint8(2), v.getUint8(3));
  if (magic !== F32_BATCH_MAGIC)
    throw new ValidationError('invalid_binary', null, `binary body must start with "${F32_BATCH_MAGIC}"`);
  const version = v.getUint16(4, true);
  if (version !== F32_BATCH_VERSION) {
    throw new ValidationError(
      'invalid_binary',
      null,
      `binary body version ${version} is not supported (only ${F32_BATCH_VERSION})`,
    );
  }
  if (v.getUint16(6, true) !== 0) throw new ValidationError('invalid_binary', null, 'binary body flags must be 0');
  const dims = v.getUint32(8, true);
  const count = v.getUint32(12, true);
  const topK = v.getUint32(16, true);
  if (dims === 0) throw new ValidationError('empty_vector', 'query', 'query must not be empty');
  if (dims > limits.maxDims)
    throw new ValidationError(
      'too_many_dimensions',
      'query',
      `query has ${dims} dimensions; the limit is ${limits.maxDims}`,
    );
  if (count === 0) throw new ValidationError('empty_batch', 'vectors', 'vectors must contain at least one vector');
  if (count > limits.maxVectors)
    throw new ValidationError(
      'too_many_vectors',
      'vectors',
      `vectors has ${count} entries; the limit is ${limits.maxVectors}`,
    );
  if (count * dims > limits.maxBatchWork) {
    throw new ValidationError(
      'batch_too_large',
      'vectors',
      `vectors × dimensions = ${count * dims}; the limit is ${limits.maxBatchWork}`,
    );
  }
  const expected = f32BatchBytes(dims, count);
  if (body.byteLength !== expected) {
    throw new ValidationError(
      'invalid_binary',
      null,
      `binary body is ${body.byteLength} bytes; ${count} rows of ${dims} float32 after the header need exactly ${expected}`,
    );
  }
  return { dims, count, topK };
}

/** Copies `into.length` little-endian float32 from `body` at byte `from` into `into`. */
function copyF32(body: Uint8Array, from: number, into: Float32Array): void {
  if (LITTLE_ENDIAN) {
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(body.subarray(from, from + into.byteLength));
    return;
  }
  const v = new DataView(body.buffer, body.byteOffset + from);
  for (let i = 0; i < into.length; i++) into[i] = v.getFloat32(i * 4, true);
}

/** Checks one float32 vector: finite, non-zero; returns its squared norm in float64 (cannot overflow). */
function norm2(v: Float32Array, offset: number, dims: number, field: string): number {
  let ss = 0;
  for (let i = 0; i < dims; i++) {
    const x = v[offset + i]!;
    if (!Number.isFinite(x)) throw new ValidationError('not_finite', `${field}[${i}]`, `${field}[${i}] must be finite`);
    ss += x * x;
  }
  if (ss === 0)
    throw new ValidationError('zero_vector', field, `${field} has zero norm; cosine similarity is undefined`);
  return ss;
}

/**
 * Validates and scores a binary batch body. Throws {@link ValidationError}.
 * `kernel` is for tests (default: the SIMD kernel when it loaded).
 */
export function scoreBinaryBatch(
  body: Uint8Array,
  limits: VectorLimits,
  kernel: BatchKernel = batchKernel,
): BinaryBatch {
  const { dims, count, topK } = readHeader(body, limits);
  const ws = kernel.prepare(dims, count);
  copyF32(body, F32_BATCH_HEADER_BYTES, ws.query);
  copyF32(body, F32_BATCH_HEADER_BYTES + dims * 4, ws.matrix);
  const qq = norm2(ws.query, 0, dims, 'query');
  const wide = qq < MIN_NORM2 || qq > MAX_NORM2;
  const { scores, norms } = kernel.run(qq);
  const out = scores.slice();
  for (let r = 0; r < count; r++) {
    const mm = norms[r]!;
    // NaN fails both comparisons: rows with NaN/Infinity land here too and get their exact error.
    if (wide || !(mm >= MIN_NORM2 && mm <= MAX_NORM2)) {
      norm2(ws.matrix, r * dims, dims, `vectors[${r}]`);
      out[r] = cosineRowF32(ws.query, ws.matrix, r, qq).score;
    }
  }
  return { dims, count, topK: Math.min(topK === 0 ? DEFAULT_TOP_K : topK, count), work: dims * count, scores: out };
}

/** The pair route's binary form: the same format with exactly one row (`b`); `top_k` is ignored. */
export function scoreBinaryPair(body: Uint8Array, limits: VectorLimits): number {
  const { dims, count } = readHeader(body, { ...limits, maxBatchWork: Number.MAX_SAFE_INTEGER });
  if (count !== 1)
    throw new ValidationError(
      'invalid_binary',
      'vectors',
      `a binary pair body carries exactly one row (b); it has ${count}`,
    );
  const v = new Float32Array(dims * 2);
  copyF32(body, F32_BATCH_HEADER_BYTES, v);
  const a = v.subarray(0, dims);
  const qq = norm2(a, 0, dims, 'a');
  norm2(v, dims, dims, 'b');
  return cosineRowF32(a, v.subarray(dims), 0, qq).score;
}
