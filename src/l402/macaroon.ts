// Macaroons through the `macaroon` package (libmacaroons V2 binary, go-macaroon key derivation, so
// tokens verify in Aperture and vice versa — pinned by test vectors in macaroon.test.ts).
import * as mac from 'macaroon';
import { formatAuthorization } from './authorization.ts';
import { type CaveatRequirements, checkCaveats, type Granted } from './caveats.ts';
import { base64ToBytes, bytesToBase64, bytesToHex } from './encoding.ts';
import { isL402Error, L402Error } from './errors.ts';
import { decodeIdentifier, encodeIdentifier, type TokenIdentifier } from './identifier.ts';
import { exportMacaroonV2 } from './macaroon-binary.ts';
import { verifyPreimage } from './preimage.ts';

/** What a macaroon carries, decoded without a key. */
export interface DecodedMacaroon {
  identifier: TokenIdentifier;
  /** Hex of the identifier's payment hash, for comparing with invoices. */
  paymentHash: string;
  /** Hex of the token id (used to derive the root key and to revoke). */
  tokenId: string;
  location: string;
  caveats: string[];
}

/** Parameters for {@link mintMacaroon}. */
export interface MintParams {
  rootKey: Uint8Array;
  paymentHash: Uint8Array;
  tokenId: Uint8Array;
  location?: string;
  caveats?: readonly string[];
}

/**
 * Mints an L402 macaroon and returns it as standard base64.
 * @example mintMacaroon({ rootKey, paymentHash, tokenId, caveats: [caveat.services([{ name: 'similarity', tier: 0 }])] })
 */
export function mintMacaroon(p: MintParams): string {
  const m = mac.newMacaroon({
    identifier: encodeIdentifier({ paymentHash: p.paymentHash, tokenId: p.tokenId }),
    location: p.location ?? '',
    rootKey: p.rootKey,
    version: 2,
  });
  for (const c of p.caveats ?? []) m.addFirstPartyCaveat(c);
  return bytesToBase64(exportMacaroonV2(m));
}

/** Adds first-party caveats to an existing macaroon (anyone holding it may narrow it). */
export function addCaveats(macaroonB64: string, caveats: readonly string[]): string {
  const m = importOrThrow(macaroonB64);
  for (const c of caveats) m.addFirstPartyCaveat(c);
  return bytesToBase64(exportMacaroonV2(m));
}

function importOrThrow(macaroonB64: string): mac.Macaroon {
  const bytes = base64ToBytes(macaroonB64);
  if (!bytes) throw new L402Error('bad_macaroon', 'macaroon is not base64');
  try {
    return mac.importMacaroon(bytes);
  } catch (e) {
    throw new L402Error('bad_macaroon', `cannot decode macaroon: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function caveatsOf(m: mac.Macaroon): string[] {
  return m.caveats.map((c) => {
    if (c.vid && c.vid.length > 0) throw new L402Error('bad_macaroon', 'third-party caveats are not supported');
    try {
      return utf8.decode(c.identifier);
    } catch {
      throw new L402Error('bad_macaroon', 'caveat is not UTF-8');
    }
  });
}

/**
 * Decodes a macaroon without verifying it (clients use this to read the payment hash and expiry).
 * Throws `bad_macaroon`.
 * @example decodeMacaroon(challenge.macaroon).paymentHash === invoice.paymentHash
 */
export function decodeMacaroon(macaroonB64: string): DecodedMacaroon {
  const m = importOrThrow(macaroonB64);
  const identifier = decodeIdentifier(m.identifier);
  return {
    identifier,
    paymentHash: bytesToHex(identifier.paymentHash),
    tokenId: bytesToHex(identifier.tokenId),
    location: m.location,
    caveats: caveatsOf(m),
  };
}

/** The signature of a macaroon, hex (for test vectors and logs). */
export function macaroonSignature(macaroonB64: string): string {
  return bytesToHex(importOrThrow(macaroonB64).signature);
}

/**
 * Verifies the HMAC chain with `rootKey`, then checks the caveats against the request.
 * Throws `bad_macaroon` (signature) or `caveat_failed`.
 * @example verifyMacaroon(mac, rootKey, { service: 'similarity', capability: 'pair', now })
 */
export function verifyMacaroon(macaroonB64: string, rootKey: Uint8Array, req: CaveatRequirements): Granted {
  const m = importOrThrow(macaroonB64);
  try {
    // Signature first: accept every condition here, check them below with typed errors.
    m.verify(rootKey, () => null);
  } catch (e) {
    throw new L402Error('bad_macaroon', 'macaroon signature does not verify', { cause: e });
  }
  return checkCaveats(caveatsOf(m), req);
}

/** Options for {@link verifyCredential}. */
export interface VerifyCredentialOptions extends CaveatRequirements {
  /** The root key for a token id, or null when the id is unknown or revoked. */
  rootKeyFor: (tokenId: Uint8Array) => Uint8Array | null;
}

/** A credential that passed every check. */
export interface VerifiedToken extends Granted {
  paymentHash: string;
  tokenId: string;
  /** The canonical header value (for logs or forwarding). */
  authorization: string;
}

/**
 * The server's check of a presented credential, in the spec's order: preimage, signature, caveats.
 * Throws `bad_preimage`, `bad_macaroon` or `caveat_failed`.
 * @example const token = verifyCredential(parseAuthorization(h), { rootKeyFor, service: 'similarity', now });
 */
export function verifyCredential(
  cred: { macaroons: readonly string[]; preimage: string },
  opts: VerifyCredentialOptions,
): VerifiedToken {
  const first = cred.macaroons[0];
  if (!first) throw new L402Error('bad_macaroon', 'no macaroon in credential');
  const decoded = decodeMacaroon(first);
  if (!verifyPreimage(cred.preimage, decoded.paymentHash)) {
    throw new L402Error('bad_preimage', 'preimage does not match the payment hash of the macaroon');
  }
  const rootKey = opts.rootKeyFor(decoded.identifier.tokenId);
  if (!rootKey) throw new L402Error('bad_macaroon', 'unknown or revoked token');
  let granted: Granted;
  try {
    granted = verifyMacaroon(first, rootKey, opts);
  } catch (e) {
    if (isL402Error(e)) throw e;
    throw new L402Error('bad_macaroon', String(e), { cause: e });
  }
  return {
    ...granted,
    paymentHash: decoded.paymentHash,
    tokenId: decoded.tokenId,
    authorization: formatAuthorization({ macaroons: cred.macaroons, preimage: cred.preimage }),
  };
}
