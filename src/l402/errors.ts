/**
 * Every failure of the protocol core is an {@link L402Error} with a machine-readable `code`,
 * so callers (extension, toolkit, server) can branch without parsing messages.
 */
export type L402ErrorCode =
  | 'malformed_challenge'
  | 'unsupported_scheme'
  | 'malformed_authorization'
  | 'bad_invoice'
  | 'hash_mismatch'
  | 'amount_mismatch'
  | 'invoice_expired'
  | 'amount_missing'
  | 'wrong_network'
  | 'bad_preimage'
  | 'bad_macaroon'
  | 'caveat_failed';

/**
 * The one error type of the L402 core.
 * @example
 * try { parseL402Challenge(header) } catch (e) { if (isL402Error(e) && e.code === 'malformed_challenge') … }
 */
export class L402Error extends Error {
  readonly code: L402ErrorCode;
  constructor(code: L402ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'L402Error';
    this.code = code;
  }
}

/**
 * Narrows an unknown thrown value to an {@link L402Error}, optionally of one code.
 * @example if (isL402Error(err, 'invoice_expired')) showExpired();
 */
export function isL402Error(value: unknown, code?: L402ErrorCode): value is L402Error {
  return value instanceof L402Error && (code === undefined || value.code === code);
}
