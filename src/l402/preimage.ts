import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, timingSafeEqual } from './encoding.ts';
import { L402Error } from './errors.ts';

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * True when sha256(preimage) equals the payment hash (both 32-byte hex), compared in constant time.
 * Malformed input is simply not a match.
 * @example verifyPreimage(preimageHex, invoice.paymentHash) // true after a real payment
 */
export function verifyPreimage(preimageHex: string, paymentHashHex: string): boolean {
  if (!HEX64.test(preimageHex) || !HEX64.test(paymentHashHex)) return false;
  return timingSafeEqual(sha256(hexToBytes(preimageHex)!), hexToBytes(paymentHashHex)!);
}

/**
 * Throws `bad_preimage` unless {@link verifyPreimage} holds; returns the preimage in lowercase.
 * @example const preimage = assertPreimage(wallet.preimage, paymentHash);
 */
export function assertPreimage(preimageHex: string, paymentHashHex: string): string {
  if (!verifyPreimage(preimageHex, paymentHashHex)) {
    throw new L402Error('bad_preimage', 'the preimage does not hash to the payment hash');
  }
  return preimageHex.toLowerCase();
}

/** sha256 of a 32-byte hex preimage, as hex: the payment hash it unlocks. */
export function paymentHashOf(preimageHex: string): string {
  const bytes = HEX64.test(preimageHex) ? hexToBytes(preimageHex) : null;
  if (!bytes) throw new L402Error('bad_preimage', 'a preimage is 32 bytes of hex');
  return Array.from(sha256(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}
