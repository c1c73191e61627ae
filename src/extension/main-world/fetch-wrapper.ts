// Wraps window.fetch (docs/design.md#attach): a 402 with a visible L402 challenge is paid through the background and
// the request retried once with Authorization, so the page's own fetch resolves with the 200. A 402 whose
// challenge the page cannot read is retried once after the background has paid it. The body is cloned before the first
// send; the caller's Request/init are never modified.
import { call } from './port.ts';
import { looksPayable, paidByRule, rejectToken, reportFailure, type Settled, settleChallenge } from './challenge.ts';
import { inScope } from './scopes.ts';

export function wrapFetch(): void {
  const nativeFetch = window.fetch.bind(window);
  window.fetch = async function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let req: Request;
    try {
      req = new Request(input, init);
    } catch {
      return nativeFetch(input, init);
    }
    const url = new URL(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return nativeFetch(req);
    let attached: string | null = null;
    if (!req.headers.has('authorization') && inScope(url)) {
      attached = (await call('authorizationFor', { url: req.url }).catch(() => null))?.authorization ?? null;
    }
    // Kept unsent for the one retry: a Request body can be read once.
    const spare = req.clone();
    const first = attached ? new Request(req, { headers: withAuth(req.headers, attached) }) : req;
    const res = await nativeFetch(first);
    // A refused token is forgotten BEFORE settling, or the background would hand it out again.
    if (attached && (res.status === 401 || res.status === 402)) await rejectToken(req.url, attached);
    const www = res.headers.get('www-authenticate');
    const pr = res.headers.get('payment-required');
    // A 401 to our token is a re-challenge (the token was just forgotten above): paid like a 402.
    const challenged = res.status === 402 || (res.status === 401 && attached !== null);
    if (!challenged || req.headers.has('authorization') || req.headers.has('payment-signature')) return res;
    if (www === null) {
      // A challenge we cannot read (CORS hides it, or Firefox dropped one split over lines — also beside a readable
      // x402 offer): the background pays it from webRequest. Ask it how that went and, once a header rule serves
      // this URL, send once more (the browser attaches the header). Else a readable x402 offer is ours to settle.
      if (await paidByRule(req.url)) {
        await res.body?.cancel().catch(() => undefined);
        return nativeFetch(spare);
      }
      if (pr === null) return res;
    }
    if (!looksPayable(www, pr)) return res;
    let paid: Settled;
    try {
      paid = await settleChallenge(req.url, req.method, www, pr);
    } catch (e) {
      reportFailure(req.url, e);
      return res;
    }
    // At most one payment per request: whatever the retry answers is the page's answer. A one-time charge goes
    // on this retry only and is no token to report.
    const retried = await nativeFetch(
      new Request(spare, { headers: withHeader(spare.headers, paid.header, paid.value) }),
    );
    if (!paid.oneTime && (retried.status === 401 || retried.status === 402)) void rejectToken(req.url, paid.value);
    return retried;
  };
}

function withAuth(h: Headers, authorization: string): Headers {
  return withHeader(h, 'Authorization', authorization);
}

function withHeader(h: Headers, name: string, value: string): Headers {
  const out = new Headers(h);
  out.set(name, value);
  return out;
}
