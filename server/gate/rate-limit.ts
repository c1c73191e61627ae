// Per-client token buckets (no node: imports, like the gate): each client may mint `burst` challenges at once
// and then `perSecond` more per second. Minting costs an invoice on the Lightning node, so an unpaying client
// must not be able to ask for them without bound (Aperture limits the same way).

/** Takes one token for `client`: 0 when allowed, else whole seconds until one is available (for Retry-After). */
export interface RateLimiter {
  take(client: string): number;
}

/** Options for {@link createTokenBucket}. */
export interface TokenBucketOptions {
  burst: number;
  perSecond: number;
  /** Unix milliseconds. */
  now: () => number;
  /** Clients tracked at once; the least recently seen are forgotten first (they start with a full bucket). */
  maxClients?: number;
}

/**
 * A token-bucket limiter; `perSecond` ≤ 0 or `burst` ≤ 0 allows everything.
 * @example const limit = createTokenBucket({ burst: 100, perSecond: 20, now: Date.now }); if (limit.take(ip) > 0) …429
 */
export function createTokenBucket(o: TokenBucketOptions): RateLimiter {
  if (o.perSecond <= 0 || o.burst <= 0) return { take: () => 0 };
  const max = o.maxClients ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(client) {
      const now = o.now();
      const b = buckets.get(client) ?? { tokens: o.burst, at: now };
      buckets.delete(client); // re-inserted below: the map's order is least recently seen first
      b.tokens = Math.min(o.burst, b.tokens + ((now - b.at) / 1000) * o.perSecond);
      b.at = now;
      let wait = 0;
      if (b.tokens >= 1) b.tokens -= 1;
      else wait = Math.max(1, Math.ceil((1 - b.tokens) / o.perSecond));
      buckets.set(client, b);
      if (buckets.size > max) buckets.delete(buckets.keys().next().value as string);
      return wait;
    },
  };
}
