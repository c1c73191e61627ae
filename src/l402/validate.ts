// A client's full check of an L402 challenge before any money moves (docs/design.md#detect).
import type { L402Challenge } from './challenge.ts';
import { assertPayable, type DecodedInvoice, decodeInvoice, type PayableChecks } from './invoice.ts';
import { type DecodedMacaroon, decodeMacaroon } from './macaroon.ts';

/** A challenge whose invoice and macaroon agree and that is safe to pay. */
export interface ValidatedChallenge {
  challenge: L402Challenge;
  invoice: DecodedInvoice & { amountMsat: number };
  macaroon: DecodedMacaroon;
}

/**
 * Decodes the macaroon and invoice of a challenge and checks them together: hash match, amount present,
 * not expired, right network. Throws an `L402Error` with the failing `code`.
 * @example const v = validateChallenge(parseL402Challenge(h), { now: Date.now() / 1000, networks: ['regtest'] });
 */
export function validateChallenge(
  challenge: L402Challenge,
  checks: Omit<PayableChecks, 'paymentHash'>,
): ValidatedChallenge {
  const macaroon = decodeMacaroon(challenge.macaroon);
  const invoice = assertPayable(decodeInvoice(challenge.invoice), { ...checks, paymentHash: macaroon.paymentHash });
  return { challenge, invoice, macaroon };
}
