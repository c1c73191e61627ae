import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caveat } from './caveats.ts';
import { covers, isUnexpired, pathInScope, pathScope, scopeFor, validUntil } from './scope.ts';

describe('validUntil', () => {
  it('is the earliest *_valid_until, in ms', () => {
    expect(validUntil(['a_valid_until=200', 'services=a:0', 'b_valid_until=100'])).toBe(100_000);
  });
  it('is null without one, and skips malformed or non-numeric values', () => {
    expect(validUntil(['services=a:0'])).toBeNull();
    expect(validUntil(['a_valid_until=soon', 'a_valid_until=', '=5', 'a_valid_until=7'])).toBe(7000);
  });
  it('never exceeds any well-formed numeric caveat (caveats only narrow)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1 }), (secs) => {
        const v = validUntil(secs.map((s, i) => `s${i}_valid_until=${s}`));
        expect(v).toBe(Math.min(...secs) * 1000);
      }),
    );
  });
});

describe('pathScope and scopeFor', () => {
  it('takes the longest path caveat, else none', () => {
    expect(pathScope(['path_prefix=/v1', 'svc_path_prefix=/v1/pair'])).toBe('/v1/pair');
    expect(pathScope(['path=/x?y', 'path=rel'])).toBeNull();
    expect(pathScope([])).toBeNull();
  });
  it('is origin-wide unless the caveats narrow it', () => {
    const url = new URL('https://api.example:8443/v1/similarity/batch?x=1');
    expect(scopeFor([], url)).toEqual({ origin: 'https://api.example:8443', pathPrefix: '/' });
    expect(scopeFor(['path_prefix=/v1'], url)).toEqual({ origin: 'https://api.example:8443', pathPrefix: '/v1' });
  });
});

describe('covers', () => {
  const scope = { origin: 'https://a.example', pathPrefix: '/api' };
  it('matches the origin exactly and the path segment-wise', () => {
    expect(covers(scope, new URL('https://a.example/api'))).toBe(true);
    expect(covers(scope, new URL('https://a.example/api/x'))).toBe(true);
    expect(covers(scope, new URL('https://a.example/apix'))).toBe(false);
    expect(covers(scope, new URL('http://a.example/api'))).toBe(false);
    expect(covers(scope, new URL('https://a.example:444/api'))).toBe(false);
    expect(covers(scope, new URL('https://b.a.example/api'))).toBe(false);
  });
  it('never covers an opaque origin', () => {
    expect(covers({ origin: 'null', pathPrefix: '/' }, new URL('data:text/plain,x'))).toBe(false);
  });
  it('pathInScope("/") covers every path', () => {
    fc.assert(
      fc.property(fc.webPath(), (p) => {
        expect(pathInScope(p || '/', '/')).toBe(true);
      }),
    );
  });
});

describe('isUnexpired', () => {
  it('holds strictly before the end and always without one', () => {
    expect(isUnexpired(null, 1e15)).toBe(true);
    expect(isUnexpired(1000, 999)).toBe(true);
    expect(isUnexpired(1000, 1000)).toBe(false);
  });
});

describe('caveat-derived scope and expiry', () => {
  it('reads path scope (narrowest wins) and ignores junk', () => {
    expect(pathScope([])).toBeNull();
    expect(pathScope(['path=/v1'])).toBe('/v1');
    expect(pathScope(['similarity_path_prefix=/v1', 'path=/v1/batch'])).toBe('/v1/batch');
    expect(pathScope(['path=relative', 'path=/a b', 'path=/x?y', 'garbage'])).toBeNull();
  });
  it('reads the earliest *_valid_until as ms', () => {
    expect(validUntil([caveat.validUntil('a', 2000), caveat.validUntil('b', 1000)])).toBe(1_000_000);
    expect(validUntil(['a_valid_until=soon'])).toBeNull();
  });
  it('matches paths segment-wise', () => {
    expect(pathInScope('/api', '/api')).toBe(true);
    expect(pathInScope('/api/x', '/api')).toBe(true);
    expect(pathInScope('/apix', '/api')).toBe(false);
    expect(pathInScope('/api/x', '/api/')).toBe(true);
    expect(pathInScope('/anything', '/')).toBe(true);
  });
});
