import { describe, expect, it } from 'vitest';
import { batchBody, enforceBounds, takeBatch, type QueueItem } from '../batcher';
import { byteLength } from '../json';

const item = (id: string, size = 10): QueueItem => ({ id, json: `{"messageId":"${id}"}`, size });

describe('takeBatch', () => {
  const items = Array.from({ length: 50 }, (_, i) => item(String(i), 100));
  it('bounds by count', () => {
    expect(takeBatch(items, 20, 1e9).map((i) => i.id)).toEqual(items.slice(0, 20).map((i) => i.id));
  });
  it('bounds by bytes, envelope included', () => {
    const batch = takeBatch(items, 100, 256 + 101 * 5);
    expect(batch).toHaveLength(5);
    expect(batch.reduce((n, i) => n + i.size + 1, 256)).toBeLessThanOrEqual(256 + 101 * 5);
  });
  it('always takes one event even when it alone exceeds the bound', () => {
    expect(takeBatch([item('big', 10_000)], 10, 100)).toHaveLength(1);
  });
  it('skips filtered items', () => {
    expect(takeBatch(items, 3, 1e9, (i) => Number(i.id) % 2 == 0).map((i) => i.id)).toEqual(['1', '3', '5']);
  });
});

describe('enforceBounds', () => {
  it('drops the oldest beyond the count bound', () => {
    const items = Array.from({ length: 12 }, (_, i) => item(String(i)));
    const dropped = enforceBounds(items, 10, 1e9, 120);
    expect(dropped.map((i) => i.id)).toEqual(['0', '1']);
    expect(items).toHaveLength(10);
  });
  it('drops the oldest beyond the byte bound', () => {
    const items = [item('a', 50), item('b', 50), item('c', 50)];
    expect(enforceBounds(items, 10, 100, 150).map((i) => i.id)).toEqual(['a']);
    expect(items.map((i) => i.id)).toEqual(['b', 'c']);
  });
});

describe('batchBody', () => {
  it('is the Segment batch shape, writeKey only for beacons', () => {
    const body = JSON.parse(batchBody([item('a'), item('b')], undefined, '2026-01-01T00:00:00.000Z'));
    expect(body).toEqual({ batch: [{ messageId: 'a' }, { messageId: 'b' }], sentAt: '2026-01-01T00:00:00.000Z' });
    expect(JSON.parse(batchBody([item('a')], 'k"ey')).writeKey).toBe('k"ey');
  });
});

describe('byteLength', () => {
  it('matches TextEncoder', () => {
    for (const s of ['abc', 'héllo', '日本語', 'emoji 😀 and more', '']) expect(byteLength(s)).toBe(new TextEncoder().encode(s).length);
  });
});
