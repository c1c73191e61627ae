// What a 401/402 asks for, in the extension's terms: the core reads every option (L402, the `Payment` charge,
// x402 Lightning) and this module names them, builds the one-time credentials and says what is not paid.
// The choice itself is the core's `chooseOption` (a reusable L402 token first, else the cheapest; docs/toolkit.md "Schemes").
import {
  formatPaymentCredential,
  formatX402PaymentSignature,
  type PaymentDemand,
  type PaymentOption,
  readPaymentDemand,
  X402_SIGNATURE_HEADER,
} from '../../l402/index.ts';

/** The options paid once, for one request (never stored as a token). */
export type OneTimeOption = Extract<PaymentOption, { reusable: false }>;

/** A header to attach to exactly one retry. */
interface OneTimeCredential {
  header: string;
  value: string;
}

/** Reads a response's demand from the header lines webRequest or a wrapper saw. Never throws. */
export function demandOf(wwwAuthenticate: string[] | string, paymentRequired?: string | null): PaymentDemand {
  return readPaymentDemand({ wwwAuthenticate, paymentRequired: paymentRequired ?? null });
}

/**
 * The lines a 401/402 is remembered by (seen-challenges.ts): its WWW-Authenticate lines and, when present,
 * x402's PAYMENT-REQUIRED, so a page can only ask about the exact demand the browser delivered.
 */
export function challengeLines(wwwAuthenticate: string[], paymentRequired?: string | null): string[] {
  return paymentRequired ? [...wwwAuthenticate, `PAYMENT-REQUIRED ${paymentRequired}`] : wwwAuthenticate;
}

/** Header values as challenge lines: Firefox hands repeated lines over as ONE value joined by newlines. */
export function splitLines(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split('\n'))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** Cheap look at raw headers: could this carry anything the core reads? (The core decides.) */
export function mayCarryDemand(wwwAuthenticate: string[], paymentRequired?: string | null): boolean {
  return !!paymentRequired || wwwAuthenticate.some((v) => /(?:^|[\s,])(?:L402|LSAT|Payment)\s/i.test(v));
}

/** Recognised, but nothing in it is paid: "x402 exact on eip155:8453 (USDC) (not a Lightning invoice)". */
export function unsupportedText(demand: PaymentDemand): string | null {
  // A broken L402 challenge is left to the token path, whose checks say exactly what is wrong with it.
  if (
    demand.options.length > 0 ||
    demand.unsupported.length === 0 ||
    demand.unsupported.some((u) => u.scheme === 'l402')
  )
    return null;
  const names = [...new Set(demand.unsupported.map((u) => `${u.name} (${u.reason})`))];
  return names.slice(0, 3).join('; ');
}

/** The credential for a paid one-time option: `Authorization: Payment …` or x402's `PAYMENT-SIGNATURE`. */
export function oneTimeCredential(option: OneTimeOption, preimage: string): OneTimeCredential {
  if (option.scheme === 'payment') {
    return {
      header: 'Authorization',
      value: formatPaymentCredential({ challenge: option.challenge, payload: { preimage: preimage.toLowerCase() } }),
    };
  }
  return {
    header: X402_SIGNATURE_HEADER,
    value: formatX402PaymentSignature(option.requirements, option.paymentRequired.resource),
  };
}
