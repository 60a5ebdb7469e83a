/** Token-bucket settings, per write key. */
export interface RateLimitOptions {
  /**
   * Requests per second a write key may sustain.
   * @default 1000
   */
  requestsPerSecond?: number | undefined;
  /**
   * Requests a write key may send at once after being idle.
   * @default 2000
   */
  burst?: number | undefined;
}

/** A token bucket per key. */
export interface RateLimiter {
  /** Take one token for `key`: 0 when allowed, else the seconds to wait before retrying. */
  take(key: string, now?: number): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

// Buckets idle long enough to be full again are dropped, so keys seen once do not accumulate.
const SWEEP_EVERY = 10_000;

/** Create a per-key token bucket (pure: time is passed in, so tests need no timers). */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const rate = options.requestsPerSecond ?? 1000;
  const burst = Math.max(1, options.burst ?? 2000);
  if (!(rate > 0)) throw new Error('[sightline] rateLimit.requestsPerSecond must be a positive number.');
  const buckets = new Map<string, Bucket>();
  let takes = 0;

  return {
    take(key, now = Date.now()) {
      if (++takes % SWEEP_EVERY === 0) {
        const fullAfterMs = (burst / rate) * 1000;
        for (const [k, b] of buckets) if (now - b.at > fullAfterMs) buckets.delete(k);
      }
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { tokens: burst, at: now };
        buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
        bucket.at = now;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
    },
  };
}
