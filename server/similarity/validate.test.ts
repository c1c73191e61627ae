// Every validation error, through the app: 400 {error:{code,message,field}}, no stack trace.
import { describe, expect, it } from 'vitest';
import { fixture, post } from '../../test/support/server-fixtures.ts';

const big = (n: number): number[] => new Array(n).fill(1);

const cases: [string, string, unknown, string, string | null][] = [
  ['bad JSON', '/v1/similarity', '{"a":[1,2', 'invalid_json', null],
  ['empty body', '/v1/similarity', '', 'invalid_json', null],
  ['NaN literal is not JSON', '/v1/similarity', '{"a":[NaN],"b":[1]}', 'invalid_json', null],
  ['body is an array', '/v1/similarity', [1, 2], 'invalid_body', null],
  ['missing a', '/v1/similarity', { b: [1] }, 'missing_field', 'a'],
  ['missing b', '/v1/similarity', { a: [1] }, 'missing_field', 'b'],
  ['a not an array', '/v1/similarity', { a: 'x', b: [1] }, 'invalid_type', 'a'],
  ['string element', '/v1/similarity', { a: [1, '2'], b: [1, 2] }, 'invalid_type', 'a[1]'],
  ['null element', '/v1/similarity', { a: [1, 2], b: [1, null] }, 'invalid_type', 'b[1]'],
  ['Infinity via 1e999', '/v1/similarity', '{"a":[1,1e999],"b":[1,2]}', 'not_finite', 'a[1]'],
  ['empty vector', '/v1/similarity', { a: [], b: [] }, 'empty_vector', 'a'],
  ['mismatched lengths', '/v1/similarity', { a: [1, 2], b: [1, 2, 3] }, 'dimension_mismatch', 'b'],
  ['zero-norm vector', '/v1/similarity', { a: [0, 0], b: [1, 2] }, 'zero_vector', 'a'],
  ['too many dimensions', '/v1/similarity', { a: big(65), b: big(65) }, 'too_many_dimensions', 'a'],
  ['batch: missing vectors', '/v1/similarity/batch', { query: [1] }, 'missing_field', 'vectors'],
  ['batch: vectors not an array', '/v1/similarity/batch', { query: [1], vectors: 3 }, 'invalid_type', 'vectors'],
  ['batch: empty vectors', '/v1/similarity/batch', { query: [1], vectors: [] }, 'empty_batch', 'vectors'],
  [
    'batch: too many vectors',
    '/v1/similarity/batch',
    { query: [1], vectors: new Array(11).fill([1]) },
    'too_many_vectors',
    'vectors',
  ],
  [
    'batch: too much work',
    '/v1/similarity/batch',
    { query: big(60), vectors: new Array(10).fill(big(60)) },
    'batch_too_large',
    'vectors',
  ],
  [
    'batch: row mismatch',
    '/v1/similarity/batch',
    { query: [1, 2], vectors: [[1, 2], [1]] },
    'dimension_mismatch',
    'vectors[1]',
  ],
  [
    'batch: zero row',
    '/v1/similarity/batch',
    {
      query: [1, 2],
      vectors: [
        [1, 2],
        [0, 0],
      ],
    },
    'zero_vector',
    'vectors[1]',
  ],
  [
    'batch: bad element',
    '/v1/similarity/batch',
    { query: [1, 2], vectors: [[1, true]] },
    'invalid_type',
    'vectors[0][1]',
  ],
  ['batch: missing query', '/v1/similarity/batch', { vectors: [[1]] }, 'missing_field', 'query'],
  ['batch: top_k zero', '/v1/similarity/batch', { query: [1], vectors: [[1]], top_k: 0 }, 'invalid_top_k', 'top_k'],
  [
    'batch: top_k fractional',
    '/v1/similarity/batch',
    { query: [1], vectors: [[1]], top_k: 1.5 },
    'invalid_top_k',
    'top_k',
  ],
];

describe('validation errors → 400 naming the field', () => {
  const f = fixture({ config: { maxDims: 64, maxVectors: 10, maxBatchWork: 500 } });
  it.each(cases)('%s', async (_name, path, body, code, field) => {
    const res = await post(f.app, path, body);
    expect(res.status).toBe(400);
    const text = await res.text();
    const json = JSON.parse(text);
    expect(json.error.code).toBe(code);
    expect(typeof json.error.message).toBe('string');
    if (field) {
      expect(json.error.field).toBe(field);
      expect(json.error.message).toContain(field);
    }
    expect(text).not.toMatch(/\.ts:\d+|at \w+ \(/);
  });

  it('rejects a body over the size limit with 413', async () => {
    const g = fixture({ config: { maxBodyBytes: 1024 } });
    const res = await post(g.app, '/v1/similarity', { a: big(400), b: big(400) });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('body_too_large');
  });

  it('validates before charging: an invalid request never creates an invoice', async () => {
    const res = await post(f.app, '/v1/similarity', { a: [1], b: [1, 2] });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await f.app.fetch(new Request('http://server.test/nope'));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
