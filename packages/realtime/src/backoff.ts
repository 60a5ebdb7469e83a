/**
 * Exponential backoff with full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog):
 * a uniform wait in `[0, min(maxMs, baseMs * 2^(attempt-1)))`, drawn per call, so clients that
 * failed together do not retry in step. `attempt` starts at 1. The same formula as
 * `@sightline/core`'s, not imported: `reconnecting-websocket` stays the only dependency.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
}

/**
 * `Retry-After` in delay-seconds (RFC 9110 10.2.3) as milliseconds; `undefined` when absent or
 * not a number. The HTTP-date form is not read: the collector sends seconds.
 */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  const n = value ? +value : NaN;
  return n >= 0 ? n * 1000 : undefined;
}
