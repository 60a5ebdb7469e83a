import { createAnalytics } from '@sightline/core';
import { createRealtimeClient, type RealtimeClient, type RealtimeOptions } from '@sightline/realtime';
import { act, render } from '@testing-library/react';
import { Profiler, StrictMode, useState, type ReactNode } from 'react';
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RealtimeProvider, RealTimeMetrics, useAlerts, useChannel, useConnectionState, useMetric, type MetricUpdate } from '../index';
import { analyticsConfig, sleep, until, useCollector } from './helpers';

// Every client the providers create, with `close` and each unsubscribe watched: the public entry, spied.
const unsubscribed: string[] = [];
vi.mock('@sightline/realtime', async (importOriginal) => {
  const realtime = await importOriginal<typeof import('@sightline/realtime')>();
  return {
    ...realtime,
    createRealtimeClient: vi.fn((options: Parameters<typeof realtime.createRealtimeClient>[0]) => {
      const client = realtime.createRealtimeClient(options);
      const subscribe = client.subscribe.bind(client);
      vi.spyOn(client, 'close');
      client.subscribe = (channel, listener, o) => {
        const off = subscribe(channel, listener, o);
        return () => (unsubscribed.push(channel), off());
      };
      return client;
    }),
  };
});
const created = () => vi.mocked(createRealtimeClient).mock.results.map((r) => r.value as RealtimeClient);
afterEach(() => {
  vi.mocked(createRealtimeClient).mockClear();
  unsubscribed.length = 0;
});

const server = useCollector();
const bucket = (minute: number) => `2026-01-02T03:${String(minute).padStart(2, '0')}:00.000Z`;
const update = (name: string, minute: number, count: number, interval = '1m'): MetricUpdate => ({ name, interval, bucket: bucket(minute), count, users: 1, sum: null, min: null, max: null });

function Live({ children, options }: { children: ReactNode; options?: Partial<RealtimeOptions> }) {
  return <RealtimeProvider config={{ ...server.realtimeOptions(), ...options }}>{children}</RealtimeProvider>;
}

/**
 * `ws` emits every message of a TCP chunk in one task, and React batches the updates of one task by
 * itself. A browser dispatches each WebSocket message as a task of its own: this socket does the same,
 * so a burst tests the provider's frame batching, not React's.
 */
class TaskPerMessageWebSocket extends WebSocket {
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'message') return super.emit(event, ...args);
    setImmediate(() => super.emit(event, ...args));
    return true;
  }
}

function Connection() {
  return <p data-testid="state">{useConnectionState().state}</p>;
}

function Metric({ name, interval }: { name: string; interval?: string }) {
  const { data, isLoading, error } = useMetric(name, { interval });
  return <p data-testid={`${name}-${interval ?? '1m'}`}>{error ? error.code : isLoading ? 'loading' : `${data!.bucket.slice(11, 16)} ${data!.count}`}</p>;
}

describe('RealtimeProvider on the real collector and client', () => {
  it('creates one client under StrictMode and subscribes through the double effects; closes it on unmount, unsubscribes unread channels', async () => {
    function App() {
      const [shown, setShown] = useState(true);
      return (
        <>
          <button onClick={() => setShown(false)}>hide</button>
          <Connection />
          {shown && <Metric name="strict" />}
        </>
      );
    }
    const view = render(
      <StrictMode>
        <Live>
          <App />
        </Live>
      </StrictMode>,
    );
    await until(() => view.getByTestId('state').textContent === 'open', 'an open connection');
    await server.publishUntil('metrics:strict', 'metric_update', [update('strict', 4, 3)], () => view.getByTestId('strict-1m').textContent === '03:04 3', 'the metric');
    expect(createRealtimeClient).toHaveBeenCalledTimes(1);
    expect(created()[0]!.close).not.toHaveBeenCalled();
    // StrictMode's simulated unmount did not unsubscribe (the release waits a microtask).
    expect(unsubscribed).toEqual([]);

    act(() => view.getByText('hide').click());
    await until(() => unsubscribed.length, 'the unsubscribe');
    expect(unsubscribed).toEqual(['metrics:strict']);
    view.unmount();
    await until(() => vi.mocked(created()[0]!.close).mock.calls.length, 'close on unmount');
    expect(created()[0]!.close).toHaveBeenCalledTimes(1);
  });

  it('useChannel: events tracked with core reach the `events` channel', async () => {
    function LastEvent() {
      const last = useChannel<{ event?: string; properties?: { i?: number } }, string>('events', {
        select: (c) => c.messages.map((m) => m.data.event).join(','),
      });
      return <p data-testid="events">{last}</p>;
    }
    const view = render(
      <Live>
        <Connection />
        <LastEvent />
      </Live>,
    );
    await until(() => view.getByTestId('state').textContent === 'open', 'an open connection');
    const analytics = createAnalytics(analyticsConfig(server.url));
    // The collector publishes stored events only while the channel is live: track until one shows.
    let i = 0;
    await until(
      () => {
        analytics.track('Live Event', { i: i++ });
        return view.getByTestId('events').textContent!.includes('Live Event');
      },
      'a live event',
    );
    await analytics.shutdown();
    view.unmount();
  });

  it('useMetric keeps per interval the newest bucket: the same bucket replaces, an older one is ignored', async () => {
    const view = render(
      <Live>
        <Metric name="orders" />
        <Metric name="orders" interval="1s" />
      </Live>,
    );
    expect(view.getByTestId('orders-1m').textContent).toBe('loading');
    await server.publishUntil('metrics:orders', 'metric_update', [update('orders', 4, 1), update('orders', 4, 5)], () => view.getByTestId('orders-1m').textContent === '03:04 5', 'the first bucket');
    await server.publish('metrics:orders', 'metric_update', [update('orders', 5, 2), update('orders', 4, 99), update('orders', 5, 7, '1s')]);
    await until(() => view.getByTestId('orders-1s').textContent === '03:05 7', 'the 1s bucket');
    expect(view.getByTestId('orders-1m').textContent).toBe('03:05 2');
    view.unmount();
  });

  it('a burst of 500 messages renders its reader a few times, not 500, and never the readers of other data', async () => {
    const renders: Record<string, number> = {};
    const count = (id: string) => () => void (renders[id] = (renders[id] ?? 0) + 1);
    function Alerts() {
      return <p>{useAlerts().length}</p>;
    }
    const view = render(
      <Live options={{ WebSocket: TaskPerMessageWebSocket }}>
        <Profiler id="burst" onRender={count('burst')}>
          <Metric name="burst" />
        </Profiler>
        <Profiler id="other" onRender={count('other')}>
          <Metric name="calm" />
        </Profiler>
        <Profiler id="alerts" onRender={count('alerts')}>
          <Alerts />
        </Profiler>
        <Profiler id="connection" onRender={count('connection')}>
          <Connection />
        </Profiler>
      </Live>,
    );
    await until(() => view.getByTestId('state').textContent === 'open', 'an open connection');
    await server.publishUntil('metrics:calm', 'metric_update', [update('calm', 1, 1)], () => view.getByTestId('calm-1m').textContent === '03:01 1', 'the calm metric');
    await server.publishUntil('metrics:burst', 'metric_update', [update('burst', 1, 0)], () => view.getByTestId('burst-1m').textContent === '03:01 0', 'the burst metric');
    for (const id in renders) renders[id] = 0;

    await server.publish(
      'metrics:burst',
      'metric_update',
      Array.from({ length: 500 }, (_, i) => update('burst', 1, i + 1)),
    );
    await until(() => view.getByTestId('burst-1m').textContent === '03:01 500', 'the whole burst');
    await sleep(200);
    // One render per animation frame: the 500 messages, one task each, came within a handful of frames.
    expect(renders.burst).toBeGreaterThanOrEqual(1);
    expect(renders.burst).toBeLessThanOrEqual(10);
    expect(renders.other ?? 0).toBe(0);
    expect(renders.alerts ?? 0).toBe(0);
    expect(renders.connection ?? 0).toBe(0);
    view.unmount();
  });

  it('useAlerts lists each alert in its latest state, newest first', async () => {
    function Alerts() {
      return <p data-testid="alerts">{useAlerts().map((a) => `${a.id}:${a.status}`).join(' ')}</p>;
    }
    const view = render(
      <Live>
        <Alerts />
      </Live>,
    );
    await server.publishUntil(
      'alerts',
      'alert',
      [
        { id: 'a1', severity: 'critical', status: 'triggered' },
        { id: 'a2', severity: 'warning', status: 'triggered' },
      ],
      () => view.getByTestId('alerts').textContent === 'a2:triggered a1:triggered',
      'two alerts',
    );
    await server.publish('alerts', 'alert', [{ id: 'a1', severity: 'critical', status: 'acknowledged' }]);
    await until(() => view.getByTestId('alerts').textContent === 'a1:acknowledged a2:triggered', 'the acknowledged alert');
    view.unmount();
  });

  it('<RealTimeMetrics> is loading until every metric has a value, then renders them', async () => {
    const view = render(
      <Live>
        <Metric name="signups" />
        <RealTimeMetrics metrics={['signups', 'conversions']}>
          {({ metrics, isLoading }) => <p data-testid="kpis">{isLoading ? 'loading' : `${metrics.signups?.count} / ${metrics.conversions?.count}`}</p>}
        </RealTimeMetrics>
      </Live>,
    );
    expect(view.getByTestId('kpis').textContent).toBe('loading');
    await server.publishUntil('metrics:signups', 'metric_update', [update('signups', 2, 40)], () => view.getByTestId('signups-1m').textContent === '03:02 40', 'signups');
    expect(view.getByTestId('kpis').textContent).toBe('loading');
    await server.publishUntil('metrics:conversions', 'metric_update', [update('conversions', 2, 4)], () => view.getByTestId('kpis').textContent === '40 / 4', 'both metrics');
    view.unmount();
  });

  it("a channel the backend refuses ends loading with the error", async () => {
    const view = render(
      <Live>
        <Metric name={'x'.repeat(300)} />
      </Live>,
    );
    await until(() => view.getByTestId(`${'x'.repeat(300)}-1m`).textContent === 'invalid_channel', 'the refusal');
    view.unmount();
  });
});
