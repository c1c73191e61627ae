// Request validation for the similarity routes. Every failure is a
// ValidationError naming the field, turned into 400 {error:{code,message}} by the app. JSON cannot
// carry NaN/Infinity literals, but 1e999 parses to Infinity, so finiteness is still checked.

/** A 400: `code` is stable for clients, `field` is the JSON path of the offending value. */
export class ValidationError extends Error {
  readonly code: string;
  readonly field: string | null;
  constructor(code: string, field: string | null, message: string) {
    super(message);
    this.name = 'ValidationError';
    this.code = code;
    this.field = field;
  }
}

/** Limits from the config. */
export interface VectorLimits {
  maxDims: number;
  maxVectors: number;
  maxBatchWork: number;
}

/** A validated `POST /v1/similarity` body. */
interface PairInput {
  a: Float64Array;
  b: Float64Array;
}

/** A validated `POST /v1/similarity/batch` body; `matrix` holds the vectors row-major. */
interface BatchInput {
  query: Float64Array;
  matrix: Float64Array;
  count: number;
  dims: number;
  topK: number;
  /** vectors × dims: what the batch price and the `batch_max_work` caveat measure. */
  work: number;
}

/** Default `top_k` when the client sends none. */
export const DEFAULT_TOP_K = 10;

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('invalid_body', null, 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * Copies a JSON number array into `into` at `offset`, checking types and finiteness; an all-zero vector is
 * refused (cosine undefined). Any other finite vector is fine, however large or small: the kernel scales.
 */
function copyVector(v: unknown, field: string, into: Float64Array, offset: number, dims: number): void {
  if (!Array.isArray(v)) throw new ValidationError('invalid_type', field, `${field} must be an array of numbers`);
  if (v.length !== dims) {
    throw new ValidationError('dimension_mismatch', field, `${field} has ${v.length} dimensions, expected ${dims}`);
  }
  let nonZero = false;
  for (let i = 0; i < dims; i++) {
    const x = v[i];
    if (typeof x !== 'number')
      throw new ValidationError('invalid_type', `${field}[${i}]`, `${field}[${i}] must be a number`);
    if (!Number.isFinite(x)) throw new ValidationError('not_finite', `${field}[${i}]`, `${field}[${i}] must be finite`);
    into[offset + i] = x;
    if (x !== 0) nonZero = true;
  }
  assertNonZero(nonZero, field, field);
}

/** A zero vector makes cosine undefined; `label` is how the message names the field. */
function assertNonZero(nonZero: boolean, field: string, label: string): void {
  if (!nonZero)
    throw new ValidationError('zero_vector', field, `${label} has zero norm; cosine similarity is undefined`);
}

function dimsOf(v: unknown, field: string, limits: VectorLimits): number {
  if (!Array.isArray(v))
    throw new ValidationError(
      v === undefined ? 'missing_field' : 'invalid_type',
      field,
      `${field} must be an array of numbers`,
    );
  if (v.length === 0) throw new ValidationError('empty_vector', field, `${field} must not be empty`);
  if (v.length > limits.maxDims) {
    throw new ValidationError(
      'too_many_dimensions',
      field,
      `${field} has ${v.length} dimensions; the limit is ${limits.maxDims}`,
    );
  }
  return v.length;
}

/** Validates `{a, b}`. Throws {@link ValidationError}. */
export function parsePairInput(body: unknown, limits: VectorLimits): PairInput {
  const o = asObject(body);
  const dims = dimsOf(o.a, 'a', limits);
  if (o.b === undefined) throw new ValidationError('missing_field', 'b', 'b must be an array of numbers');
  const a = new Float64Array(dims);
  const b = new Float64Array(dims);
  copyVector(o.a, 'a', a, 0, dims);
  copyVector(o.b, 'b', b, 0, dims);
  return { a, b };
}

/** Validates `{query, vectors, top_k?}` into one contiguous matrix. Throws {@link ValidationError}. */
export function parseBatchInput(body: unknown, limits: VectorLimits): BatchInput {
  const o = asObject(body);
  const dims = dimsOf(o.query, 'query', limits);
  const vectors = o.vectors;
  if (!Array.isArray(vectors)) {
    throw new ValidationError(
      vectors === undefined ? 'missing_field' : 'invalid_type',
      'vectors',
      'vectors must be an array of number arrays',
    );
  }
  const count = vectors.length;
  if (count === 0) throw new ValidationError('empty_batch', 'vectors', 'vectors must contain at least one vector');
  if (count > limits.maxVectors) {
    throw new ValidationError(
      'too_many_vectors',
      'vectors',
      `vectors has ${count} entries; the limit is ${limits.maxVectors}`,
    );
  }
  const work = count * dims;
  if (work > limits.maxBatchWork) {
    throw new ValidationError(
      'batch_too_large',
      'vectors',
      `vectors × dimensions = ${work}; the limit is ${limits.maxBatchWork}`,
    );
  }
  let topK = Math.min(DEFAULT_TOP_K, count);
  if (o.top_k !== undefined) {
    if (typeof o.top_k !== 'number' || !Number.isInteger(o.top_k) || o.top_k < 1) {
      throw new ValidationError('invalid_top_k', 'top_k', 'top_k must be a positive integer');
    }
    topK = Math.min(o.top_k, count);
  }
  const query = new Float64Array(dims);
  copyVector(o.query, 'query', query, 0, dims);
  const matrix = new Float64Array(work);
  for (let r = 0; r < count; r++) copyVector(vectors[r], `vectors[${r}]`, matrix, r * dims, dims);
  return { query, matrix, count, dims, topK, work };
}

/** A decimal number as JSON writes it (plus an optional leading `+` and a bare leading `.`); nothing else. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:infinity|nan)$/i;
/** Longest item echoed back in an error message. */
const ECHO_MAX = 40;

/**
 * Validates the query of `GET /v1/similarity?a=1,2,3&b=4,5,6` (comma-separated numbers) with the same rules and
 * error codes as the POST body; `field` names the query parameter (`a`, `b[2]`) and messages say "query parameter".
 * `values(name)` returns every value of that parameter (e.g. Hono's `c.req.queries(name)`).
 * Throws {@link ValidationError}.
 */
export function parsePairQuery(
  values: (name: string) => readonly string[] | undefined,
  limits: VectorLimits,
): PairInput {
  const a = queryVector(values('a'), 'a', limits, null);
  const b = queryVector(values('b'), 'b', limits, a.length);
  return { a, b };
}

function queryVector(
  raw: readonly string[] | undefined,
  field: string,
  limits: VectorLimits,
  dims: number | null,
): Float64Array {
  const label = `query parameter ${field}`;
  const example = `comma-separated numbers, e.g. ${field}=1,2,3`;
  if (raw === undefined || raw.length === 0)
    throw new ValidationError('missing_field', field, `${label} is required: ${example}`);
  if (raw.length > 1) throw new ValidationError('invalid_type', field, `${label} must be given once: ${example}`);
  const text = (raw[0] ?? '').trim();
  if (text === '') throw new ValidationError('empty_vector', field, `${label} must not be empty`);
  const items = text.split(',');
  if (items.length > limits.maxDims) {
    throw new ValidationError(
      'too_many_dimensions',
      field,
      `${label} has ${items.length} dimensions; the limit is ${limits.maxDims}`,
    );
  }
  if (dims !== null && items.length !== dims) {
    throw new ValidationError('dimension_mismatch', field, `${label} has ${items.length} dimensions, expected ${dims}`);
  }
  const out = new Float64Array(items.length);
  let nonZero = false;
  for (let i = 0; i < items.length; i++) {
    const item = (items[i] ?? '').trim();
    const at = `${field}[${i}]`;
    const shown = JSON.stringify(item.length > ECHO_MAX ? `${item.slice(0, ECHO_MAX)}…` : item);
    if (NON_FINITE.test(item))
      throw new ValidationError('not_finite', at, `${label}, item ${i} (${shown}) must be finite`);
    if (!NUMBER.test(item))
      throw new ValidationError('invalid_type', at, `${label}, item ${i} (${shown}) must be a number`);
    const x = Number(item);
    if (!Number.isFinite(x))
      throw new ValidationError('not_finite', at, `${label}, item ${i} (${shown}) must be finite`);
    out[i] = x;
    if (x !== 0) nonZero = true;
  }
  assertNonZero(nonZero, field, label);
  return out;
}
