// Shared by the fetch and XHR wrappers: is a 402 an L402 challenge the page can see, and ask the
// background to settle it (the decision, the payment and the token stay in the background: docs/design.md#decide to #attach).
import { call } from './port.ts';
import { addScope } from './scopes.ts';

/**
 * Cheap sniff only (L402/LSAT/Payment challenge, or x402's PAYMENT-REQUIRED); the background reads the demand
 * with the protocol core and chooses (no second parser here).
 */
export function looksPayable(wwwAuthenticate: string | null, paymentRequired: string | null): boolean {
  return !!paymentRequired || (!!wwwAuthenticate && /(?:^|[\s,])(?:L402|LSAT|Payment)\s/i.test(wwwAuthenticate));
}

/** The header to retry with; `oneTime`: a charge for this retry only, never attached again. */
export interface Settled {
  header: string;
  value: string;
  oneTime: boolean;
}

/** Pays (or reuses a token) for this 402; resolves with the header to retry with. */
export async function settleChallenge(
  url: string,
  method: string,
  wwwAuthenticate: string | null,
  paymentRequired: string | null,
): Promise<Settled> {
  const r = await call('challenge', {
    url,
    method,
    wwwAuthenticate: wwwAuthenticate ? [wwwAuthenticate] : [],
    ...(paymentRequired ? { paymentRequired } : {}),
  });
  addScope(r.scope);
  return { header: r.header ?? 'Authorization', value: r.authorization, oneTime: r.oneTime === true };
}

/**
 * A challenge we cannot read (CORS hides it, or Firefox dropped one split over lines) is the background's to pay
 * from webRequest: true once it has, and a header rule serves this URL (the browser adds the header to a retry).
 */
export async function paidByRule(url: string): Promise<boolean> {
  return (await call('paidInBackground', { url }).catch(() => null))?.retry === true;
}

/** Tells the page why a 402 was not paid, without changing what its fetch/XHR returns (docs/design.md#the-extension). */
export function reportFailure(url: string, e: unknown): void {
  const { code, message } = e as { code?: string; message?: string };
  window.dispatchEvent(
    new CustomEvent('l402-autopilot:error', {
      detail: { url, code: code ?? 'internal', message: message ?? String(e) },
    }),
  );
}

/** The server refused a header we attached: the background forgets it (and arms its loop guard). */
export function rejectToken(url: string, authorization: string): Promise<unknown> {
  return call('tokenRejected', { url, authorization }).catch(() => null);
}
