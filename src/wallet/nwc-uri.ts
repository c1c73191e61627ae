// Parses a NIP-47 connection URI (docs/design.md#nwc) with errors a user can act on, before any socket opens.

/** The parts of a `nostr+walletconnect://` URI. */
export interface NwcConnection {
  /** The wallet service's public key, 64 lowercase hex. */
  walletPubkey: string;
  /** At least one `ws://` or `wss://` relay URL. */
  relayUrls: string[];
  /** The client's secret key, 64 lowercase hex. Never log it. */
  secret: string;
  lud16: string | null;
}

const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * Parses `nostr+walletconnect://<pubkey>?relay=<ws url>[&relay=…]&secret=<hex>[&lud16=…]`.
 * Throws an `Error` whose message names the part that is wrong (never echoing the secret).
 * @example parseNwcUri('nostr+walletconnect://b889…?relay=wss%3A%2F%2Frelay.example&secret=71a8…').relayUrls
 */
export function parseNwcUri(uri: string): NwcConnection {
  if (typeof uri !== 'string' || uri.trim() === '') throw new Error('NWC URI is empty');
  const trimmed = uri.trim();
  const match = /^(nostr\+walletconnect|nostrwalletconnect):\/\/([^?/]*)\/?(\?.*)?$/i.exec(trimmed);
  if (!match) throw new Error('NWC URI must start with nostr+walletconnect://');
  const walletPubkey = (match[2] ?? '').toLowerCase();
  if (!HEX64.test(walletPubkey)) throw new Error('NWC URI: the wallet public key must be 64 hex characters');
  const params = new URLSearchParams((match[3] ?? '').slice(1));
  const relayUrls = params
    .getAll('relay')
    .map((r) => r.trim())
    .filter(Boolean);
  if (relayUrls.length === 0) throw new Error('NWC URI has no relay= parameter');
  for (const r of relayUrls) {
    let u: URL;
    try {
      u = new URL(r);
    } catch {
      throw new Error(`NWC URI: relay ${JSON.stringify(r)} is not a URL`);
    }
    if (u.protocol !== 'wss:' && u.protocol !== 'ws:') throw new Error(`NWC URI: relay ${r} must be ws:// or wss://`);
  }
  const secret = params.get('secret');
  if (!secret) throw new Error('NWC URI has no secret= parameter');
  if (!HEX64.test(secret)) throw new Error('NWC URI: the secret must be 64 hex characters');
  return { walletPubkey, relayUrls, secret: secret.toLowerCase(), lud16: params.get('lud16') };
}
