// The binary batch body (server/README.md "Binary batch bodies"): a 20-byte little-endian header, then the query
// and the rows as little-endian float32. JSON spends more time parsing a large batch than the server spends on
// the math; this format is copied straight into the kernel's memory.
//
//   offset 0  4 bytes  magic "L4VB"
//          4  u16      version (1)
//          6  u16      flags (0)
//          8  u32      dims
//         12  u32      count (rows after the query)
//         16  u32      top_k (0: the server's default)
//         20  f32 × dims            query
//             f32 × dims × count    rows, row-major

/** The media type; the server also accepts `application/octet-stream` with the same body. */
export const F32_BATCH_CONTENT_TYPE = 'application/vnd.l402.f32-batch';
export const F32_BATCH_MAGIC = 'L4VB';
export const F32_BATCH_VERSION = 1;
export const F32_BATCH_HEADER_BYTES = 20;

/** Size in bytes of a body with `count` rows of `dims`. */
export const f32BatchBytes = (dims: number, count: number): number => F32_BATCH_HEADER_BYTES + 4 * dims * (count + 1);

/** What {@link encodeF32Batch} takes: `vectors` as arrays or one row-major Float32Array of count × dims. */
export interface F32BatchInput {
  query: ArrayLike<number>;
  vectors: ReadonlyArray<ArrayLike<number>> | Float32Array;
  /** Rows to return, best first (omit for the server's default). */
  topK?: number;
}

/**
 * Encodes a batch (values are rounded to float32). Throws RangeError on empty input or rows of another length.
 * @example await fetch(`${base}/v1/similarity/batch`, { method: 'POST',
 *            headers: { 'content-type': F32_BATCH_CONTENT_TYPE }, body: encodeF32Batch({ query, vectors, topK: 5 }) });
 */
export function encodeF32Batch(input: F32BatchInput): Uint8Array<ArrayBuffer> {
  const dims = input.query.length;
  if (dims === 0) throw new RangeError('query must not be empty');
  const flat = input.vectors instanceof Float32Array;
  const count = flat ? input.vectors.length / dims : input.vectors.length;
  if (!Number.isInteger(count))
    throw new RangeError(`vectors has ${input.vectors.length} values, not a multiple of ${dims}`);
  const topK = input.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0 || topK > 0xffffffff) throw new RangeError('topK must be a positive integer');
  const bytes = new Uint8Array(f32BatchBytes(dims, count));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = F32_BATCH_MAGIC.charCodeAt(i);
  view.setUint16(4, F32_BATCH_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, dims, true);
  view.setUint32(12, count, true);
  view.setUint32(16, topK, true);
  let p = F32_BATCH_HEADER_BYTES;
  for (let i = 0; i < dims; i++, p += 4) view.setFloat32(p, input.query[i]!, true);
  if (flat) {
    const v = input.vectors as Float32Array;
    for (let i = 0; i < v.length; i++, p += 4) view.setFloat32(p, v[i]!, true);
    return bytes;
  }
  for (const [r, row] of (input.vectors as ReadonlyArray<ArrayLike<number>>).entries()) {
    if (row.length !== dims) throw new RangeError(`vectors[${r}] has ${row.length} values, expected ${dims}`);
    for (let i = 0; i < dims; i++, p += 4) view.setFloat32(p, row[i]!, true);
  }
  return bytes;
}
