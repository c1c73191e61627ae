// Binary (float32) batch bodies through the app: same results and price as JSON, its own body cap, and a clear
// 400/413 for every malformed, short or oversized body.
import { parseL402Challenge } from '../../src/l402/index.ts';
import { encodeF32Batch, F32_BATCH_CONTENT_TYPE, f32BatchBytes } from '../../src/toolkit/f32-batch.ts';
import { describe, expect, it } from 'vitest';
import { startServer } from '../start.ts';
import { BASE, type Fixture, fixture, post, tempDir } from '../../test/support/server-fixtures.ts';

function postBinary(
  f: Fixture,
  path: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    f.app.fetch(
      new Request(`${BASE}${path}`, {
        method: 'POST',
        headers: { 'content-type': F32_BATCH_CONTENT_TYPE, ...headers },
        body,
      }),
    ),
  );
}

/** 402 → pay → credential for a binary body. */
async function buy(f: Fixture, path: string, body: Uint8Array<ArrayBuffer>): Promise<string> {
  const res = await postBinary(f, path, body);
  expect(res.status).toBe(402);
  const c = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
  return `L402 ${c.macaroon}:${await f.wallet.pay(c.invoice)}`;
}

const query = [1, 2, 3, 4, 5, 6, 7, 8];
const vectors = Array.from({ length: 13 }, (_, r) => query.map((x, i) => Math.sin(r * 1.7 + i) * x + (r % 3)));

describe('binary batch bodies', () => {
  const f = fixture();

  it('answers like the JSON body (same price, same ranking, similarities within float32 precision)', async () => {
    const jsonRes = await post(f.app, '/v1/similarity/batch', { query, vectors, top_k: 5 });
    const binRes = await postBinary(f, '/v1/similarity/batch', encodeF32Batch({ query, vectors, topK: 5 }));
    expect(jsonRes.status).toBe(402);
    expect(binRes.status).toBe(402);
    const [j, b] = [await jsonRes.json(), await binRes.json()];
    expect(b.price_msat).toBe(j.price_msat);

    const body = encodeF32Batch({ query, vectors, topK: 5 });
    const authorization = await buy(f, '/v1/similarity/batch', body);
    const paid = await postBinary(f, '/v1/similarity/batch', body, { authorization });
    expect(paid.status).toBe(200);
    const out = (await paid.json()) as {
      results: { index: number; similarity: number }[];
      dims: number;
      count: number;
    };
    const ref = (await (
      await post(f.app, '/v1/similarity/batch', { query, vectors, top_k: 5 }, { authorization })
    ).json()) as typeof out;
    expect(out.dims).toBe(8);
    expect(out.count).toBe(13);
    expect(out.results.map((r) => r.index)).toEqual(ref.results.map((r) => r.index));
    for (const [i, r] of out.results.entries()) expect(r.similarity).toBeCloseTo(ref.results[i]!.similarity, 5);
  });

  it('accepts application/octet-stream and defaults top_k to 10', async () => {
    const body = encodeF32Batch({ query, vectors });
    const authorization = await buy(f, '/v1/similarity/batch', body);
    const res = await postBinary(f, '/v1/similarity/batch', body, {
      authorization,
      'content-type': 'application/octet-stream',
    });
    expect(res.status).toBe(200);
    expect((await res.json()).results).toHaveLength(10);
  });

  it('computes rows float32 cannot square (1e30, 1e-30) in float64, exactly', async () => {
    const q = [3, 4];
    const rows = [
      [3e30, 4e30],
      [-4e-30, 3e-30],
      [4, 3],
    ];
    const body = encodeF32Batch({ query: q, vectors: rows, topK: 3 });
    const authorization = await buy(f, '/v1/similarity/batch', body);
    const res = await postBinary(f, '/v1/similarity/batch', body, { authorization });
    const { results } = (await res.json()) as { results: { index: number; similarity: number }[] };
    expect(results.map((r) => r.index)).toEqual([0, 2, 1]);
    expect(results[0]!.similarity).toBeCloseTo(1, 6);
    expect(results[1]!.similarity).toBeCloseTo(0.96, 6);
    expect(results[2]!.similarity).toBeCloseTo(0, 6);
  });

  it('serves the pair route from a one-row body, with a pair token', async () => {
    const body = encodeF32Batch({ query: [1, 2, 3], vectors: [[2, 4, 6.5]] });
    const authorization = await buy(f, '/v1/similarity', body);
    const res = await postBinary(f, '/v1/similarity', body, { authorization });
    expect(res.status).toBe(200);
    expect((await res.json()).similarity).toBeCloseTo(0.99928, 4);
    const two = await postBinary(f, '/v1/similarity', encodeF32Batch({ query: [1], vectors: [[1], [2]] }));
    expect(two.status).toBe(400);
    expect((await two.json()).error.code).toBe('invalid_binary');
  });
});

/** A valid body with one field overwritten. */
function patched(
  at: number,
  write: (v: DataView) => void,
  o: { dims?: number; count?: number } = {},
): Uint8Array<ArrayBuffer> {
  const dims = o.dims ?? 2;
  const body = encodeF32Batch({
    query: new Array(dims).fill(1),
    vectors: Array.from({ length: o.count ?? 2 }, () => new Array(dims).fill(1)),
  });
  write(new DataView(body.buffer, at));
  return body;
}

const errors: [string, Uint8Array<ArrayBuffer>, string, string | null][] = [
  ['shorter than the header', new Uint8Array(12), 'invalid_binary', null],
  ['wrong magic', patched(0, (v) => v.setUint8(0, 0x4a)), 'invalid_binary', null],
  ['unknown version', patched(4, (v) => v.setUint16(0, 2, true)), 'invalid_binary', null],
  ['flags set', patched(6, (v) => v.setUint16(0, 1, true)), 'invalid_binary', null],
  ['zero dims', patched(8, (v) => v.setUint32(0, 0, true)), 'empty_vector', 'query'],
  ['too many dims', patched(8, (v) => v.setUint32(0, 65, true)), 'too_many_dimensions', 'query'],
  ['zero rows', patched(12, (v) => v.setUint32(0, 0, true)), 'empty_batch', 'vectors'],
  ['too many rows', patched(12, (v) => v.setUint32(0, 11, true)), 'too_many_vectors', 'vectors'],
  ['too much work', patched(12, (v) => v.setUint32(0, 10, true), { dims: 60 }), 'batch_too_large', 'vectors'],
  [
    'one float short',
    patched(12, (v) => v.setUint32(0, 3, true), { count: 3 }).slice(0, f32BatchBytes(2, 3) - 4),
    'invalid_binary',
    null,
  ],
  ['trailing bytes', new Uint8Array([...patched(0, () => {}), 0, 0, 0, 0]), 'invalid_binary', null],
  ['NaN in a row', patched(20 + 8 + 8 + 4, (v) => v.setFloat32(0, Number.NaN, true)), 'not_finite', 'vectors[1][1]'],
  [
    'Infinity in the query',
    patched(20, (v) => v.setFloat32(0, Number.NEGATIVE_INFINITY, true)),
    'not_finite',
    'query[0]',
  ],
  ['zero query', patched(20, (v) => v.setBigUint64(0, 0n, true)), 'zero_vector', 'query'],
  ['zero row', patched(20 + 8, (v) => v.setBigUint64(0, 0n, true)), 'zero_vector', 'vectors[0]'],
];

describe('malformed binary bodies → 400 naming the problem, before any invoice', () => {
  const f = fixture({ config: { maxDims: 64, maxVectors: 10, maxBatchWork: 500 } });
  it.each(errors)('%s', async (_name, body, code, field) => {
    const res = await postBinary(f, '/v1/similarity/batch', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBeNull();
    const json = await res.json();
    expect(json.error.code).toBe(code);
    expect(typeof json.error.message).toBe('string');
    if (field) expect(json.error.field).toBe(field);
  });

  it('has its own body cap: a binary body over MAX_BINARY_BODY_BYTES is 413, under it is fine even above the JSON cap', async () => {
    const g = fixture({ config: { maxBodyBytes: 1024, maxBinaryBodyBytes: 4096 } });
    const ok = encodeF32Batch({ query: new Array(64).fill(1), vectors: new Array(10).fill(new Array(64).fill(1)) }); // 2,836 bytes
    expect((await postBinary(g, '/v1/similarity/batch', ok)).status).toBe(402);
    const big = encodeF32Batch({ query: new Array(128).fill(1), vectors: new Array(10).fill(new Array(128).fill(1)) });
    const res = await postBinary(g, '/v1/similarity/batch', big);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('body_too_large');
    // Judged from Content-Length alone when the client sends one (as HTTP clients do).
    const declared = await postBinary(g, '/v1/similarity/batch', big, { 'content-length': String(big.byteLength) });
    expect(declared.status).toBe(413);
    const fits = await postBinary(g, '/v1/similarity/batch', ok, { 'content-length': String(ok.byteLength) });
    expect(fits.status).toBe(402);
  });
});

describe('encodeF32Batch', () => {
  it('refuses an empty query, ragged rows and a bad topK', () => {
    expect(() => encodeF32Batch({ query: [], vectors: [[1]] })).toThrow(RangeError);
    expect(() => encodeF32Batch({ query: [1, 2], vectors: [[1, 2], [1]] })).toThrow(/vectors\[1\]/);
    expect(() => encodeF32Batch({ query: [1, 2], vectors: new Float32Array(3) })).toThrow(RangeError);
    expect(() => encodeF32Batch({ query: [1], vectors: [[1]], topK: 1.5 })).toThrow(RangeError);
  });
});

describe('binary bodies over a real socket (read straight from the request stream)', () => {
  it('pays and scores a 300 × 64 batch, and refuses an oversized Content-Length with 413', async () => {
    const s = await startServer({ config: { dataDir: tempDir(), logRequests: false, maxBinaryBodyBytes: 100_000 } });
    try {
      const rows = Array.from({ length: 300 }, (_, r) => Array.from({ length: 64 }, (_, i) => Math.cos(r + i * 0.1)));
      const body = encodeF32Batch({ query: rows[7]!, vectors: rows, topK: 3 });
      const headers = { 'content-type': F32_BATCH_CONTENT_TYPE };
      const first = await fetch(`${s.url}/v1/similarity/batch`, { method: 'POST', body, headers });
      expect(first.status).toBe(402);
      const c = parseL402Challenge(first.headers.get('www-authenticate') ?? '');
      const authorization = `L402 ${c.macaroon}:${await s.devWallet!.pay(c.invoice)}`;
      const paid = await fetch(`${s.url}/v1/similarity/batch`, {
        method: 'POST',
        body,
        headers: { ...headers, authorization },
      });
      expect(paid.status).toBe(200);
      const out = (await paid.json()) as { results: { index: number; similarity: number }[]; count: number };
      expect(out.count).toBe(300);
      expect(out.results[0]!.index).toBe(7);
      expect(out.results[0]!.similarity).toBeCloseTo(1, 6);
      const big = encodeF32Batch({ query: rows[0]!, vectors: [...rows, ...rows], topK: 3 }); // 153,876 bytes
      const refused = await fetch(`${s.url}/v1/similarity/batch`, {
        method: 'POST',
        body: big,
        headers: { ...headers, authorization },
      });
      expect(refused.status).toBe(413);
    } finally {
      await s.close();
    }
  });
});
