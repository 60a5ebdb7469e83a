import { describe, expect, it } from 'vitest';
import { BufferPool } from '../bufferPool';

describe('BufferPool', () => {
  it('hands a buffer given back out again, views included', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(600);
    expect(a.length).toBe(1024);
    a[0] = 42;
    pool.give(a.subarray(10, 20));
    expect(pool.free).toBe(1);
    const b = pool.take(1024);
    expect(b.buffer).toBe(a.buffer);
    expect(b[0]).toBe(42);
    expect(pool.free).toBe(0);
  });

  it('never takes in a buffer twice, nor one it did not hand out', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(512);
    pool.give(a);
    pool.give(a);
    expect(pool.free).toBe(1);
    // Same size, other memory: someone else's.
    pool.give(Buffer.allocUnsafeSlow(1024));
    pool.give(new Uint8Array(1024));
    expect(pool.free).toBe(1);
    // Two takes, two different buffers.
    const [x, y] = [pool.take(512), pool.take(512)];
    expect(x.buffer).not.toBe(y.buffer);
  });

  it('gives requests under half its size, or over its size, memory of their own', () => {
    const pool = new BufferPool(1024, 2);
    const small = pool.take(511);
    const big = pool.take(5000);
    expect([small.length, big.length]).toEqual([511, 5000]);
    pool.give(small);
    pool.give(big);
    expect(pool.free).toBe(0);
  });

  it('keeps at most maxFree', () => {
    const pool = new BufferPool(1024, 2);
    const taken = [pool.take(1024), pool.take(1024), pool.take(1024)];
    for (const buffer of taken) pool.give(buffer);
    expect(pool.free).toBe(2);
  });
});
