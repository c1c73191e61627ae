// The credential a client presents: `Authorization: L402 <mac>[,<mac>…]:<preimage hex>` (docs/design.md#credential).
import { hasControlChar, isBase64 } from './encoding.ts';
import { L402Error } from './errors.ts';

/** A parsed L402 credential. */
export interface L402Credential {
  scheme: 'L402' | 'LSAT';
  /** Base64 macaroons; the first is the L402 token, any others are discharges. */
  macaroons: string[];
  /** 64 lowercase hex characters. */
  preimage: string;
}

const B64 = '[A-Za-z0-9+/_-]+={0,2}';
// Anchored, so nothing (CR/LF, a second header, spaces) can ride along.
const AUTHORIZATION = new RegExp(`^(L402|LSAT) (${B64}(?:,${B64})*):([0-9a-fA-F]{64})$`, 'i');
const MACAROON = new RegExp(`^${B64}$`);

/**
 * Formats the `Authorization` header value; refuses anything that is not base64 / 64 hex, so no
 * header injection is possible through a hostile macaroon.
 * @example formatAuthorization({ macaroons: [mac], preimage }) // 'L402 AgEE…:0f3a…'
 */
export function formatAuthorization(c: {
  macaroons: readonly string[];
  preimage: string;
  scheme?: 'L402' | 'LSAT';
}): string {
  if (c.macaroons.length === 0 || !c.macaroons.every((m) => MACAROON.test(m) && isBase64(m))) {
    throw new L402Error('bad_macaroon', 'macaroons must be base64');
  }
  if (!/^[0-9a-fA-F]{64}$/.test(c.preimage)) throw new L402Error('bad_preimage', 'a preimage is 64 hex characters');
  return `${c.scheme ?? 'L402'} ${c.macaroons.join(',')}:${c.preimage.toLowerCase()}`;
}

/**
 * Strictly parses an `Authorization` value of scheme L402 or LSAT. Throws `malformed_authorization`.
 * @example parseAuthorization('L402 AgEE…:0f3a…').preimage
 */
export function parseAuthorization(header: string): L402Credential {
  if (typeof header !== 'string' || header.length > 16 * 1024) {
    throw new L402Error('malformed_authorization', 'authorization header missing or too long');
  }
  // Only optional whitespace (SP / HTAB) around the value is tolerated; CR, LF, NUL and other controls never.
  const m = hasControlChar(header) ? null : AUTHORIZATION.exec(header.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!m || !m[2]!.split(',').every(isBase64)) {
    throw new L402Error('malformed_authorization', 'expected "L402 <base64 macaroon>[,<macaroon>…]:<64 hex preimage>"');
  }
  return {
    scheme: m[1]!.toUpperCase() as 'L402' | 'LSAT',
    macaroons: m[2]!.split(','),
    preimage: m[3]!.toLowerCase(),
  };
}

/** True when the header value names the L402 or LSAT scheme (whether or not it is well-formed). */
export function isL402Authorization(header: string | null | undefined): boolean {
  return typeof header === 'string' && /^\s*(L402|LSAT)\s/i.test(header);
}
