import type { RealtimeEvent } from '@sightline/realtime';
import { describe, expect, it } from 'vitest';
import { applyEvents, dropChannel, EMPTY_CHANNEL, initialSnapshot } from '../realtimeReducer';
import type { MetricUpdate } from '../types';

let seq = 0;
const message = (channel: string, data: unknown, kind = 'event'): RealtimeEvent => ({ type: 'message', channel, seq: ++seq, kind, at: '2026-01-02T03:04:05.000Z', data });
const update = (bucket: string, count: number, interval = '1m'): MetricUpdate => ({ name: 'page_views', interval, bucket, count, users: count, sum: null, min: null, max: null });
const metric = (u: MetricUpdate) => message('metrics:page_views', u, 'metric_update');

describe('applyEvents', () => {
  it('keeps, per interval, the newest bucket: the same bucket replaces, an older one is ignored', () => {
    let s = initialSnapshot();
    s = applyEvents(s, [metric(update('2026-01-02T03:04:00.000Z', 1)), metric(update('2026-01-02T03:04:00.000Z', 5))], 100);
    expect(s.metrics.page_views!['1m']!.count).toBe(5);
    s = applyEvents(s, [metric(update('2026-01-02T03:05:00.000Z', 2)), metric(update('2026-01-02T03:04:00.000Z', 9))], 100);
    expect(s.metrics.page_views!['1m']).toMatchObject({ bucket: '2026-01-02T03:05:00.000Z', count: 2 });
    s = applyEvents(s, [metric(update('2026-01-02T03:05:07.000Z', 1, '1s'))], 100);
    expect(s.metrics.page_views!['1s']!.count).toBe(1);
    expect(s.metrics.page_views!['1m']!.count).toBe(2);
  });

  it('bounds each channel to historySize messages, oldest first', () => {
    const events = Array.from({ length: 7 }, (_, i) => message('events', { i }));
    const s = applyEvents(initialSnapshot(), events, 3);
    expect(s.channels.events!.messages.map((m) => (m.data as { i: number }).i)).toEqual([4, 5, 6]);
    const more = applyEvents(s, [message('events', { i: 7 })], 3);
    expect(more.channels.events!.messages.map((m) => (m.data as { i: number }).i)).toEqual([5, 6, 7]);
  });

  it('leaves untouched channels and metrics the very same objects (their readers do not re-render)', () => {
    const s = applyEvents(initialSnapshot(), [message('alerts', { id: 'a' }), metric(update('2026-01-02T03:04:00.000Z', 1))], 100);
    const next = applyEvents(s, [message('events', { n: 1 })], 100);
    expect(next.channels.alerts).toBe(s.channels.alerts);
    expect(next.channels['metrics:page_views']).toBe(s.channels['metrics:page_views']);
    expect(next.metrics.page_views).toBe(s.metrics.page_views);
    expect(next.connection).toBe(s.connection);
    expect(applyEvents(next, [], 100)).toBe(next);
  });

  it('counts resets and keeps a refusal', () => {
    const s = applyEvents(
      initialSnapshot(),
      [
        { type: 'reset', channel: 'events', seq: 4, epoch: 'e2' },
        { type: 'error', channel: 'metrics:bad', code: 'invalid_channel', message: 'no' },
      ],
      100,
    );
    expect(s.channels.events).toEqual({ ...EMPTY_CHANNEL, resets: 1 });
    expect(s.channels['metrics:bad']!.error).toMatchObject({ code: 'invalid_channel' });
  });

  it('ignores metric_update data without a bucket', () => {
    const s = applyEvents(initialSnapshot(), [message('metrics:x', null, 'metric_update'), message('metrics:x', { count: 1 }, 'metric_update')], 100);
    expect(s.metrics.x).toBeUndefined();
    expect(s.channels['metrics:x']!.messages).toHaveLength(2);
  });
});

describe('dropChannel', () => {
  it('removes the channel and its metric, nothing else', () => {
    const s = applyEvents(initialSnapshot(), [metric(update('2026-01-02T03:04:00.000Z', 1)), message('events', {})], 100);
    const dropped = dropChannel(s, 'metrics:page_views');
    expect(dropped.channels['metrics:page_views']).toBeUndefined();
    expect(dropped.metrics.page_views).toBeUndefined();
    expect(dropped.channels.events).toBe(s.channels.events);
  });
});
