// Root keys and revocation for L402 tokens (docs/design.md#the-server). Each token's root key is
// HMAC-SHA256(master secret, token id), so nothing per token is stored, a restart keeps paid tokens
// valid, and several instances sharing the master secret verify without shared state. Pure (no
// node: imports) so the gate can use it on any runtime; persistence lives in token-files.ts.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Where revoked token ids (hex) are kept. */
export interface RevocationList {
  has(tokenIdHex: string): boolean;
  add(tokenIdHex: string): Promise<void>;
}

/** What the gate needs to mint and verify tokens. */
export interface TokenAuthority {
  /** A fresh random 32-byte token id. */
  newTokenId(): Uint8Array;
  /** The root key of a token id (revoked or not). */
  rootKeyFor(tokenId: Uint8Array): Uint8Array;
  isRevoked(tokenIdHex: string): boolean;
  revoke(tokenIdHex: string): Promise<void>;
}

/** A revocation list kept in memory only (tests, or when persistence is elsewhere). */
export function memoryRevocationList(initial: Iterable<string> = []): RevocationList {
  const set = new Set(Array.from(initial, (s) => s.toLowerCase()));
  return {
    has: (id) => set.has(id.toLowerCase()),
    add: async (id) => {
      set.add(id.toLowerCase());
    },
  };
}

/**
 * Builds the authority from a 32-byte master secret.
 * @example const tokens = createTokenAuthority({ masterSecret, revocations: memoryRevocationList() });
 */
export function createTokenAuthority(o: {
  masterSecret: Uint8Array;
  revocations: RevocationList;
  randomBytes?: (n: number) => Uint8Array;
}): TokenAuthority {
  if (o.masterSecret.length < 32) throw new Error('master secret must be at least 32 bytes');
  const master = o.masterSecret.slice();
  const random = o.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  return {
    newTokenId: () => random(32),
    rootKeyFor: (tokenId) => hmac(sha256, master, tokenId),
    isRevoked: (hex) => o.revocations.has(hex),
    revoke: async (hex) => {
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('a token id is 64 hex characters');
      await o.revocations.add(hex);
    },
  };
}
