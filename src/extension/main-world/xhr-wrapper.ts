// Wraps XMLHttpRequest (docs/design.md#attach) the same way as fetch: the page's XHR ends with the 200. Our listeners
// are added in the constructor, before any of the page's, so while a 402 is being settled they can stop
// its events; then the same object is re-opened and re-sent with Authorization. If nothing is paid, the
// held-back events are replayed so the page sees the original 402. Synchronous XHR is left alone.
import { call } from './port.ts';
import { looksPayable, paidByRule, rejectToken, reportFailure, type Settled, settleChallenge } from './challenge.ts';
import { inScope } from './scopes.ts';

const EVENTS = ['readystatechange', 'progress', 'load', 'loadend', 'error', 'abort', 'timeout'] as const;

interface State {
  method: string;
  url: string;
  async: boolean;
  headers: [string, string][];
  body: Document | XMLHttpRequestBodyInit | null | undefined;
  hold: boolean;
  done: boolean;
  retried: boolean;
  attached: string | null;
  replay: (() => void) | null;
}

/** The background did not pay a challenge hidden from us: the page gets its 402 (the background reported why). */
const NOT_PAID = Symbol('not paid');

/** The retry a header rule serves, once the background has paid (else the page gets its 402). */
async function byRule(url: string): Promise<'by-rule'> {
  if (!(await paidByRule(url))) throw NOT_PAID;
  return 'by-rule';
}

export function wrapXhr(): void {
  const Native = window.XMLHttpRequest;
  const proto = Native.prototype;
  const open = proto.open;
  const setHeader = proto.setRequestHeader;
  const send = proto.send;
  const states = new WeakMap<XMLHttpRequest, State>();

  class Wrapped extends Native {
    constructor() {
      super();
      for (const type of EVENTS) this.addEventListener(type, (e) => onEvent(this, e));
    }
  }

  const onEvent = (xhr: XMLHttpRequest, e: Event): void => {
    const s = states.get(xhr);
    if (!s) return;
    // A 401 to our token is a re-challenge, paid like a 402 once the token is forgotten (begin).
    const challenged = xhr.status === 402 || (xhr.status === 401 && s.attached !== null);
    if (!s.hold && !s.retried && xhr.readyState === 2 && challenged && !hasAuth(s)) {
      const www = xhr.getResponseHeader('www-authenticate');
      const pr = xhr.getResponseHeader('payment-required');
      // A challenge the page cannot read (CORS) is the background's to pay; so is one that Firefox joined from
      // several lines with a newline (XHR shows it, fetch does not): the background pays it (detector.ts
      // pageCanSeeChallenge), and handling it here too would settle it twice.
      if ((www === null && pr === null) || www?.includes('\n')) begin(xhr, s, () => byRule(s.url));
      // An x402 offer with no readable WWW-Authenticate: a challenge beside it may be hidden and the background's.
      else if (www === null && pr !== null)
        begin(xhr, s, () => byRule(s.url).catch(() => settleChallenge(s.url, s.method, www, pr)));
      else if (looksPayable(www, pr)) begin(xhr, s, () => settleChallenge(s.url, s.method, www, pr));
    }
    if (!s.hold && e.type === 'loadend' && s.attached && (xhr.status === 401 || xhr.status === 402)) {
      void rejectToken(s.url, s.attached);
    }
    if (!s.hold) return;
    e.stopImmediatePropagation();
    if (e.type === 'loadend') {
      s.done = true;
      s.replay?.();
    }
  };

  const begin = (xhr: XMLHttpRequest, s: State, settle: () => Promise<Settled | 'by-rule'>): void => {
    s.hold = true;
    s.retried = true;
    // A refused pre-attached token is forgotten first, or the background would hand it out again.
    const stale = s.attached;
    s.attached = null;
    (stale ? rejectToken(s.url, stale) : Promise.resolve()).then(settle).then(
      (paid) => {
        s.hold = false;
        // A one-time charge is no token, nor one a rule attaches: nothing to report if the retry is refused.
        s.attached = paid === 'by-rule' || paid.oneTime ? null : paid.value;
        open.call(xhr, s.method, s.url, true);
        for (const [k, v] of s.headers) setHeader.call(xhr, k, v);
        if (paid !== 'by-rule') setHeader.call(xhr, paid.header, paid.value);
        send.call(xhr, s.body);
      },
      (e: unknown) => {
        if (e !== NOT_PAID) reportFailure(s.url, e);
        // Give the page the original 402 once it has fully arrived.
        const release = () => {
          s.hold = false;
          for (const type of ['readystatechange', 'load', 'loadend']) {
            xhr.dispatchEvent(type === 'readystatechange' ? new Event(type) : new ProgressEvent(type));
          }
        };
        if (s.done) release();
        else s.replay = release;
      },
    );
  };

  const hasAuth = (s: State) =>
    s.headers.some(([k]) => k.toLowerCase() === 'authorization' || k.toLowerCase() === 'payment-signature');

  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    const async = rest.length === 0 || rest[0] !== false;
    const abs = new URL(String(url), location.href).href;
    states.set(this, {
      method,
      url: abs,
      async,
      headers: [],
      body: null,
      hold: false,
      done: false,
      retried: false,
      attached: null,
      replay: null,
    });
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;

  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    states.get(this)?.headers.push([name, value]);
    return setHeader.call(this, name, value);
  };

  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const s = states.get(this);
    if (!s?.async) return send.call(this, body);
    s.body = body;
    const url = new URL(s.url);
    if (hasAuth(s) || !inScope(url)) return send.call(this, body);
    // A token may exist for this service: ask first (the XHR stays in OPENED meanwhile).
    call('authorizationFor', { url: s.url })
      .catch(() => ({ authorization: null }))
      .then(({ authorization }) => {
        if (authorization) {
          s.attached = authorization;
          setHeader.call(this, 'Authorization', authorization);
        }
        send.call(this, body);
      });
  };

  window.XMLHttpRequest = Wrapped;
}
