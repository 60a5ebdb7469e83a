/** Retry timing of failed deliveries. */
export interface RetryOptions {
  /** First retry waits up to this many ms (full jitter). @default 1000 */
  baseDelay?: number;
  /** Upper bound of any backoff wait (Retry-After excepted). @default 30000 */
  maxDelay?: number;
}

/**
 * Exponential backoff with full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog):
 * a uniform wait in `[0, min(maxDelay, baseDelay * 2^(attempt-1)))`, so many clients that failed
 * together do not retry in step. `attempt` starts at 1.
 */
export function backoffDelay(attempt: number, baseDelay: number, maxDelay: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1)));
}

/**
 * Parse an HTTP `Retry-After` header (RFC 9110 10.2.3): delay-seconds or an HTTP date
 * (a date in the past means "now"). Returns milliseconds to wait, or `undefined` when absent
 * or unreadable (negative numbers included).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return;
  const n = +value;
  const ms = n >= 0 ? n * 1000 : isNaN(n) ? Math.max(0, Date.parse(value) - now) : NaN;
  return isNaN(ms) ? undefined : Math.round(ms);
}

/** The wait before attempt `attempt + 1`: the server's `Retry-After` when given, else jittered backoff. */
export function retryDelay(attempt: number, retryAfter: number | undefined, baseDelay: number, maxDelay: number, random?: () => number): number {
  return retryAfter ?? backoffDelay(attempt, baseDelay, maxDelay, random);
}
