import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay } from '../index';

describe('backoffDelay (full jitter)', () => {
  it('stays in [0, base * 2^(attempt-1))', () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const cap = 100 * 2 ** (attempt - 1);
      expect(backoffDelay(attempt, 100, 1e9, () => 0)).toBe(0);
      expect(backoffDelay(attempt, 100, 1e9, () => 0.999999)).toBe(cap - 1);
      expect(backoffDelay(attempt, 100, 1e9, () => 0.5)).toBe(cap / 2);
    }
  });

  it('is capped by maxDelay', () => {
    expect(backoffDelay(20, 1000, 30_000, () => 0.999999)).toBeLessThan(30_000);
    expect(backoffDelay(20, 1000, 30_000, () => 0.5)).toBe(15_000);
    // 2^1000 overflows to Infinity; the cap still holds.
    expect(backoffDelay(1000, 1000, 30_000, () => 0.5)).toBe(15_000);
  });

  it('draws uniformly (each client its own delay)', () => {
    const draws = Array.from({ length: 2000 }, () => backoffDelay(3, 1000, 30_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(4000);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(1700);
    expect(mean).toBeLessThan(2300);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });
  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    // A date in the past means "now".
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('retryDelay', () => {
  it('prefers Retry-After over backoff', () => {
    expect(retryDelay(1, 5000, 1000, 30_000, () => 0.5)).toBe(5000);
    expect(retryDelay(2, undefined, 1000, 30_000, () => 0.5)).toBe(1000);
  });
});
