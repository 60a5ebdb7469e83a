import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../index';
import { retryAfterMs } from '../backoff';

describe('backoff', () => {
  it('full jitter below min(max, base * 2^(attempt-1))', () => {
    expect(backoffDelay(1, 1000, 30_000, () => 0.999)).toBe(999);
    expect(backoffDelay(3, 1000, 30_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(10, 1000, 30_000, () => 0.999)).toBe(29_970);
    expect(backoffDelay(4, 1000, 30_000, () => 0)).toBe(0);
  });

  it('draws per call, so two clients do not retry in step', () => {
    const a = Array.from({ length: 20 }, () => backoffDelay(5, 1000, 30_000));
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  it('reads Retry-After seconds', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
