// GET /v1/similarity?a=…&b=… (a priced page a browser can navigate to), through app.fetch: the 402, a paid 200,
// one `pair` token for GET and POST alike, query validation with the POST codes, and JSON vs HTML by Accept.
import { describe, expect, it } from 'vitest';
import { decodeMacaroon, parseL402Challenge, parseWwwAuthenticate } from '../src/l402/index.ts';
import { cosine } from './similarity/cosine.ts';
import { BASE, buyToken, type Fixture, fixture, post } from '../test/support/server-fixtures.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const QUERY = 'a=1,2,3&b=2,4,6.5';
const EXPECTED = cosine(new Float64Array([1, 2, 3]), new Float64Array([2, 4, 6.5]));

function get(f: Fixture, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(f.app.fetch(new Request(`${BASE}/v1/similarity?${query}`, { headers })));
}

/** Pays the 402 of a GET and returns the credential. */
async function buyWithGet(f: Fixture): Promise<string> {
  const res = await get(f, QUERY);
  expect(res.status).toBe(402);
  const challenge = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
  return `L402 ${challenge.macaroon}:${await f.wallet.pay(challenge.invoice)}`;
}

describe('GET /v1/similarity', () => {
  it('answers 402 with the same challenge shape, price and pair capability as POST', async () => {
    const f = fixture();
    const res = await get(f, QUERY);
    expect(res.status).toBe(402);
    const www = res.headers.get('www-authenticate') ?? '';
    expect(parseWwwAuthenticate(www).map((c) => c.scheme.toUpperCase())).toEqual(['LSAT', 'L402']);
    const body = await res.json();
    expect(body).toMatchObject({ error: { code: 'payment_required' }, price_msat: 10_000, capability: 'pair' });
    expect(decodeMacaroon(parseL402Challenge(www).macaroon).caveats).toContain('similarity_capabilities=pair');
    const viaPost = await (await post(f.app, '/v1/similarity', { a: [1, 2, 3], b: [2, 4, 6.5] })).json();
    expect(body.price_msat).toBe(viaPost.price_msat);
  });

  it('answers 200 {similarity} with a credential', async () => {
    const f = fixture();
    const authorization = await buyWithGet(f);
    const res = await get(f, QUERY, { authorization });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ similarity: EXPECTED });
    expect(f.logs.at(-1)).toMatchObject({
      method: 'GET',
      route: '/v1/similarity',
      status: 200,
      paid: true,
      price_msat: 10_000,
    });
  });

  it('accepts one token for both methods: bought with GET works for POST, bought with POST works for GET', async () => {
    const f = fixture();
    const fromGet = await buyWithGet(f);
    const p = await post(f.app, '/v1/similarity', { a: [1, 0], b: [0, 1] }, { authorization: fromGet });
    expect(p.status).toBe(200);
    expect(await p.json()).toEqual({ similarity: 0 });

    const fromPost = (await buyToken(f)).authorization;
    const g = await get(f, 'a=1,0&b=1,0', { authorization: fromPost });
    expect(g.status).toBe(200);
    expect(await g.json()).toEqual({ similarity: 1 });
  });

  it('refuses a wrong preimage with a fresh 402, as POST does', async () => {
    const f = fixture();
    const authorization = (await buyWithGet(f)).replace(/:[0-9a-f]{64}$/, `:${'00'.repeat(32)}`);
    const res = await get(f, QUERY, { authorization });
    expect(res.status).toBe(402);
    expect((await res.json()).rejected.code).toBe('bad_preimage');
  });

  const invalid: [string, string, string, string][] = [
    ['missing a', 'b=1,2', 'missing_field', 'a'],
    ['missing b', 'a=1,2', 'missing_field', 'b'],
    ['a given twice', 'a=1&a=2&b=1', 'invalid_type', 'a'],
    ['empty a', 'a=&b=1', 'empty_vector', 'a'],
    ['not a number', 'a=1,x&b=1,2', 'invalid_type', 'a[1]'],
    ['empty item', 'a=1,,3&b=1,2,3', 'invalid_type', 'a[1]'],
    ['hex is not a decimal number', 'a=0x10&b=1', 'invalid_type', 'a[0]'],
    ['NaN', 'a=1,2&b=NaN,1', 'not_finite', 'b[0]'],
    ['Infinity', 'a=-Infinity&b=1', 'not_finite', 'a[0]'],
    ['1e999 overflows', 'a=1,1e999&b=1,2', 'not_finite', 'a[1]'],
    ['mismatched lengths', 'a=1,2&b=1,2,3', 'dimension_mismatch', 'b'],
    ['zero-norm vector', 'a=0,0&b=1,2', 'zero_vector', 'a'],
    ['too many dimensions', `a=${new Array(65).fill(1).join(',')}&b=1`, 'too_many_dimensions', 'a'],
  ];
  it.each(invalid)('400 for %s, naming the query field, before any invoice', async (_, query, code, field) => {
    const f = fixture({ config: { maxDims: 64 } });
    const res = await get(f, query);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatchObject({ code, field });
    expect(body.error.message).toMatch(/^query parameter [ab]\b/);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('accepts signs, exponents, a leading dot and spaces around items', async () => {
    const f = fixture();
    const authorization = await buyWithGet(f);
    const res = await get(f, `a=${encodeURIComponent('+1, -2.5e0 ,.5')}&b=1,-2.5,0.5`, { authorization });
    expect(await res.json()).toEqual({ similarity: 1 });
  });
});

describe('GET /v1/similarity: JSON by default, a page when Accept prefers text/html', () => {
  it('answers JSON to */* and to an Accept ranking JSON first, and says it varies by Accept', async () => {
    const f = fixture();
    const authorization = await buyWithGet(f);
    for (const accept of [
      '*/*',
      'application/json',
      'application/json, text/html;q=0.9',
      'text/html, application/json',
    ]) {
      const res = await get(f, QUERY, { authorization, accept });
      expect(res.headers.get('content-type'), accept).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ similarity: EXPECTED });
      expect(res.headers.get('vary')).toMatch(/Accept/);
    }
  });

  it('answers a browser navigation with a readable page holding the value, no script allowed', async () => {
    const f = fixture();
    const authorization = await buyWithGet(f);
    const res = await get(f, QUERY, { authorization, accept: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('vary')).toMatch(/Accept/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`<output id="similarity">${EXPECTED}</output>`);
    expect(html).toContain('<code>1, 2, 3</code>');
    expect(html).toContain('<code>2, 4, 6.5</code>');
    expect(html).not.toMatch(/<script/i);
  });

  it('answers the 402 of a navigation with a page, keeping the status and the challenge headers', async () => {
    const f = fixture();
    const res = await get(f, QUERY, { accept: BROWSER });
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const challenge = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
    const html = await res.text();
    expect(html).toContain('Payment required: 10 sats');
    expect(html).toContain(challenge.invoice);
  });

  it('answers a validation error with an escaped page', async () => {
    const f = fixture();
    const res = await get(f, `a=1,${encodeURIComponent('<script>alert("x")</script>')}&b=1,2`, { accept: BROWSER });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('&#60;script&#62;alert(');
    expect(html).not.toMatch(/<\/?script|"x/i);
    expect(html).toContain('<code>invalid_type</code>');
    expect(html).toContain('<code>a[1]</code>');
  });

  it('keeps CORS as for POST: exposes WWW-Authenticate on a cross-origin 402', async () => {
    const f = fixture();
    const res = await get(f, QUERY, { origin: 'https://site.example' });
    expect(res.status).toBe(402);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/i);
  });
});
