// Byte/text helpers on Uint8Array only, so the core runs in browsers, workers and Node alike.
import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';

const BASE64_BODY = /^[A-Za-z0-9+/]+$/;
const BASE64URL_BODY = /^[A-Za-z0-9_-]+$/;

/**
 * True when `s` is standard or URL-safe base64 (one alphabet, not mixed): at least one data character,
 * no impossible length, and padding (optional) only to the next multiple of 4.
 */
export function isBase64(s: string): boolean {
  if (typeof s !== 'string') return false;
  const body = s.replace(/={1,2}$/, '');
  const pad = s.length - body.length;
  if (!BASE64_BODY.test(body) && !BASE64URL_BODY.test(body)) return false;
  if (body.length % 4 === 1) return false;
  return pad === 0 || (body.length + pad) % 4 === 0;
}

/**
 * Decodes standard or URL-safe base64 (padding optional). Returns null on anything else.
 * @example base64ToBytes('AAE=') // Uint8Array [0, 1]
 */
export function base64ToBytes(s: string): Uint8Array | null {
  if (!isBase64(s)) return null;
  let std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  std += '='.repeat((4 - (std.length % 4)) % 4);
  const bin = atob(std);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Encodes bytes as standard, padded base64 (the form L402 headers use).
 * @example bytesToBase64(new Uint8Array([0, 1])) // 'AAE='
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Lowercase hex of `bytes`. @example bytesToHex(new Uint8Array([171])) // 'ab' */
export function bytesToHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

/** Decodes even-length hex (any case); null on anything else. @example hexToBytes('ab') // Uint8Array [171] */
export function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  return nobleHexToBytes(hex.toLowerCase());
}

/**
 * True when `s` contains a control character other than HTAB (C0 or DEL), which is never valid in an HTTP
 * field value (RFC 9110 §5.5) and is how header injection (CR/LF) starts.
 * @example hasControlChar('a\r\nb') // true
 */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** Constant-time equality of two byte arrays (time depends on length only). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
