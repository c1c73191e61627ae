// Shared by the fetch and XHR wrappers: is a 402 an L402 challenge the page can see, and ask the
// background to settle it (the decision, the payment and the token stay in the background: docs/design.md#decide to #attach).
import { call } from './port.ts';
import { addScope } from './scopes.ts';

/** Cheap scheme sniff only; the background parses with the protocol core (no second parser here). */
export function looksL402(wwwAuthenticate: string | null): wwwAuthenticate is string {
  return !!wwwAuthenticate && /(?:^|[\s,])(?:L402|LSAT)\s/i.test(wwwAuthenticate);
}

let n = 0;

/** Pays (or reuses a token) for this 402; resolves with the header to retry with. */
export async function settle(url: string, method: string, wwwAuthenticate: string): Promise<string> {
  const r = await call('challenge', { url, method, wwwAuthenticate: [wwwAuthenticate], requestId: `r${++n}` });
  addScope(r.scope);
  return r.authorization;
}

/** Tells the page why a 402 was not paid, without changing what its fetch/XHR returns (docs/design.md#the-extension). */
export function reportFailure(url: string, e: unknown): void {
  const { code, message } = e as { code?: string; message?: string };
  window.dispatchEvent(new CustomEvent('l402-autopilot:error', { detail: { url, code: code ?? 'internal', message: message ?? String(e) } }));
}

/** The server refused a header we attached: the background forgets it (and arms its loop guard). */
export function rejectToken(url: string, authorization: string): Promise<unknown> {
  return call('tokenRejected', { url, authorization }).catch(() => null);
}
