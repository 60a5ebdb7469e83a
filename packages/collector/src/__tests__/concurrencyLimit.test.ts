import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit } from '../realtime/concurrencyLimit';

describe('createConcurrencyLimit', () => {
  it('gives at most `max` slots per key, each key on its own', () => {
    const limit = createConcurrencyLimit(2);
    const a1 = limit.acquire('a');
    const a2 = limit.acquire('a');
    expect(a1 && a2).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeNull();
    expect(limit.acquire('b')).toBeTypeOf('function');
    expect(limit.count('a')).toBe(2);
    expect(limit.count('b')).toBe(1);
  });

  it('frees a slot on release, once however often the release is called', () => {
    const limit = createConcurrencyLimit(2);
    const first = limit.acquire('a')!;
    limit.acquire('a');
    first();
    first();
    expect(limit.count('a')).toBe(1);
    expect(limit.acquire('a')).toBeTypeOf('function');
    expect(limit.acquire('a')).toBeNull();
  });
});
