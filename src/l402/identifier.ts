// The 66-byte L402 macaroon identifier: version uint16 BE = 0 ‖ payment_hash (32) ‖ token_id (32).
import { L402Error } from './errors.ts';

/** A decoded token identifier. */
export interface TokenIdentifier {
  version: 0;
  paymentHash: Uint8Array;
  tokenId: Uint8Array;
}

export const IDENTIFIER_LENGTH = 66;

/**
 * Encodes an identifier.
 * @example encodeIdentifier({ paymentHash, tokenId: crypto.getRandomValues(new Uint8Array(32)) })
 */
export function encodeIdentifier(id: { paymentHash: Uint8Array; tokenId: Uint8Array }): Uint8Array {
  if (id.paymentHash.length !== 32 || id.tokenId.length !== 32) {
    throw new L402Error('bad_macaroon', 'payment hash and token id are 32 bytes each');
  }
  const out = new Uint8Array(IDENTIFIER_LENGTH);
  out.set(id.paymentHash, 2);
  out.set(id.tokenId, 34);
  return out;
}

/**
 * Decodes an identifier; throws `bad_macaroon` for any other length or version.
 * @example decodeIdentifier(mac.identifier).paymentHash
 */
export function decodeIdentifier(bytes: Uint8Array): TokenIdentifier {
  if (bytes.length !== IDENTIFIER_LENGTH) {
    throw new L402Error('bad_macaroon', `identifier is ${bytes.length} bytes, expected ${IDENTIFIER_LENGTH}`);
  }
  const version = (bytes[0]! << 8) | bytes[1]!;
  if (version !== 0) throw new L402Error('bad_macaroon', `unknown identifier version ${version}`);
  return { version: 0, paymentHash: bytes.slice(2, 34), tokenId: bytes.slice(34, 66) };
}
