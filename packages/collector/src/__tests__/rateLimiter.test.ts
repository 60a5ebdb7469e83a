import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../index';

describe('createRateLimiter', () => {
  it('allows the burst, then one request per refill, per key', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 2, burst: 3 });
    const t = 1_000_000;
    expect([limiter.take('a', t), limiter.take('a', t), limiter.take('a', t)]).toEqual([0, 0, 0]);
    expect(limiter.take('a', t)).toBe(1);
    // Another key has its own bucket.
    expect(limiter.take('b', t)).toBe(0);
    // Half a second refills one token at 2/s.
    expect(limiter.take('a', t + 500)).toBe(0);
    expect(limiter.take('a', t + 500)).toBe(1);
  });

  it('says how many whole seconds to wait when the rate is slow', () => {
    const limiter = createRateLimiter({ requestsPerSecond: 0.1, burst: 1 });
    expect(limiter.take('k', 0)).toBe(0);
    expect(limiter.take('k', 0)).toBe(10);
    expect(limiter.take('k', 5_000)).toBe(5);
    expect(limiter.take('k', 10_000)).toBe(0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createRateLimiter({ requestsPerSecond: 0 })).toThrow(/positive/);
  });
});
