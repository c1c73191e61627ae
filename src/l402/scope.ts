// Which requests a bearer credential is sent with, and until when: ONE answer for the extension, the toolkit and
// the agent CLI (docs/design.md#credential-scope). Times are milliseconds since the epoch.
import { type Caveat, parseCaveat } from './caveats.ts';

/** Where a credential may be sent: one service origin (scheme + host + port) and a path prefix within it. */
export interface CredentialScope {
  origin: string;
  pathPrefix: string;
}

/** The caveats that parse as `key=value`, in order; a malformed one is skipped (verifiers ignore it too). */
function* wellFormed(caveats: readonly string[]): Generator<Caveat> {
  for (const raw of caveats) {
    try {
      yield parseCaveat(raw);
    } catch {
      // malformed: skipped
    }
  }
}

/**
 * The earliest `<service>_valid_until` (unix seconds in the caveat) as unix ms; null when there is none. Caveats
 * may only narrow, so the minimum rules.
 * @example validUntil(['svc_valid_until=1700000000']) // 1700000000000
 */
export function validUntil(caveats: readonly string[]): number | null {
  let until: number | null = null;
  for (const c of wellFormed(caveats)) {
    if (!c.key.endsWith('_valid_until')) continue;
    const s = Number(c.value);
    if (c.value === '' || !Number.isFinite(s)) continue;
    until = until === null ? s * 1000 : Math.min(until, s * 1000);
  }
  return until;
}

/**
 * The path prefix the caveats restrict a token to: `path=/p`, `path_prefix=/p` or `<service>_path_prefix=/p` (the
 * longest wins: a repeated caveat may only narrow); null when they name none.
 * @example pathScope(['path_prefix=/v1']) // '/v1'
 */
export function pathScope(caveats: readonly string[]): string | null {
  let scope: string | null = null;
  for (const c of wellFormed(caveats)) {
    if (c.key !== 'path' && c.key !== 'path_prefix' && !c.key.endsWith('_path_prefix')) continue;
    const v = c.value.trim();
    if (v.startsWith('/') && !/[\s?#]/.test(v) && v.length > (scope ?? '').length) scope = v;
  }
  return scope;
}

/**
 * The policy: a token covers its service's whole origin unless its caveats name a path prefix. A token is the
 * service's to scope (Aperture's are valid service-wide); guessing a narrower scope from the URL would pay again
 * for every other path of the same service.
 * @example scopeFor(['path_prefix=/v1'], new URL('https://api.example/v1/x')) // { origin: 'https://api.example', pathPrefix: '/v1' }
 */
export function scopeFor(caveats: readonly string[], url: URL): CredentialScope {
  return { origin: url.origin, pathPrefix: pathScope(caveats) ?? '/' };
}

/** Does `path` fall under `prefix`, segment-wise ("/api" covers "/api" and "/api/x", not "/apix")? */
export function pathInScope(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(p);
}

/**
 * Is `url` inside `scope`: same origin, path under the prefix?
 * @example covers({ origin: 'https://a.example', pathPrefix: '/v1' }, new URL('https://a.example/v1/x')) // true
 */
export function covers(scope: CredentialScope, url: URL): boolean {
  return url.origin !== 'null' && url.origin === scope.origin && pathInScope(url.pathname, scope.pathPrefix);
}

/** Is a credential valid until `until` (ms, null = no expiry) still usable at `now` (ms)? */
export function isUnexpired(until: number | null, now: number): boolean {
  return until === null || now < until;
}
