// Which services this page holds a token for (scopes only, never tokens): the wrapper asks the background
// for a header only for URLs inside one of these, so ordinary requests cost no round trip (docs/design.md#attach).
import type { TokenScope } from '../messaging/protocol.ts';

const scopes: TokenScope[] = [];

export function addScope(s: TokenScope | null): void {
  if (s && !scopes.some((x) => x.origin === s.origin && x.pathPrefix === s.pathPrefix)) scopes.push(s);
}

/** Same segment-wise rule as the background's token store ("/api" covers "/api/x", not "/apix"). */
export function inScope(url: URL): boolean {
  return scopes.some(
    (s) =>
      s.origin === url.origin &&
      (s.pathPrefix === '/' ||
        url.pathname === s.pathPrefix ||
        url.pathname.startsWith(s.pathPrefix.endsWith('/') ? s.pathPrefix : `${s.pathPrefix}/`)),
  );
}
