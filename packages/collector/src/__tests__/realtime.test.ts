import { createRealtimeClient, type RealtimeEvent, type RealtimeOptions, type RealtimeState } from '@sightline/realtime';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../index';
import { BACKENDS, post, recent, startTestCollector, trackEvent, useBackend } from './helpers';
import { poll, range, readySocket, sleep, waitFor, type RawSocket } from './realtimeHelpers';

const A = { id: 'rt-a', writeKey: 'wk-rt-a', readToken: 'rt-rt-a' };
const B = { id: 'rt-b', writeKey: 'wk-rt-b', readToken: 'rt-rt-b' };
const QUIET = { id: 'rt-quiet', writeKey: 'wk-rt-quiet', readToken: 'rt-rt-quiet' };
const LIVE = { id: 'rt-live', writeKey: 'wk-rt-live', readToken: 'rt-rt-live' };

// Short client timings, so that failover, retries and probes happen within a test.
const fast: Partial<RealtimeOptions> = {
  failoverMs: 300,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  probeMs: [150, 300],
  readyTimeoutMs: 1000,
  pollWaitSec: 2,
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real client against `url` with `token`; closed after the test. */
function client(url: string, token: string, options: Partial<RealtimeOptions> = {}) {
  const states: [RealtimeState, string][] = [];
  const c = createRealtimeClient({ url, getToken: () => token, WebSocket, ...options });
  c.on('state', (state, reason) => states.push([state, reason]));
  cleanups.push(() => c.close());
  return { client: c, states };
}

function record(c: ReturnType<typeof createRealtimeClient>, channel: string, options?: { since?: number; epoch?: string }) {
  const events: RealtimeEvent[] = [];
  const off = c.subscribe(channel, (event) => events.push(event), options);
  const messages = () => events.filter((e) => e.type === 'message');
  return { events, messages, seqs: () => messages().map((m) => m.seq), off };
}

function raw(socket: Promise<RawSocket>): Promise<RawSocket> {
  return socket.then((s) => {
    cleanups.push(() => s.ws.terminate());
    return s;
  });
}

/** A `ws` WebSocket class whose new sockets can be made to fail, and whose open ones can be cut. */
function blockableWebSocket() {
  const sockets = new Set<WebSocket>();
  const control = { blocked: false };
  class Blockable extends WebSocket {
    constructor(url: string) {
      // Port 9 on loopback refuses the connection at once: a blocked socket, polling takes over.
      super(control.blocked ? 'ws://127.0.0.1:9/v1/realtime' : url);
      sockets.add(this);
      this.on('close', () => sockets.delete(this));
    }
  }
  return { WebSocket: Blockable, control, cut: () => sockets.forEach((s) => s.terminate()) };
}

describe.each(BACKENDS)('realtime on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend, { projects: [A, B, QUIET, LIVE], realtime: { authTimeoutMs: 500 } });
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });

  const publish = (projectId: string, channel: string, n: number, start = 1) =>
    collector.realtime.publish(projectId, channel, 'alert', range(start, start + n - 1).map((i) => ({ id: i })));

  it('delivers a published message to a socket subscriber (the real client)', async () => {
    const { client: c, states } = client(url, A.readToken, fast);
    const sub = record(c, 'alerts');
    await waitFor(() => c.state === 'open' && c.cursor('alerts') !== undefined, 5000, 'subscribed');
    const result = await collector.realtime.publish(A.id, 'alerts', 'alert', [{ id: 'a1', severity: 'critical', status: 'firing' }]);
    expect(result).toMatchObject({ firstSeq: 1, lastSeq: 1 });
    await waitFor(() => sub.messages().length === 1);
    expect(sub.events[0]).toMatchObject({
      type: 'message',
      channel: 'alerts',
      seq: 1,
      kind: 'alert',
      data: { id: 'a1', severity: 'critical', status: 'firing' },
    });
    expect(Date.parse((sub.events[0] as { at: string }).at)).toBeGreaterThan(Date.now() - 60_000);
    expect(states).toEqual([['open', 'ready']]);
  });

  it('resumes from since/epoch out of the history', async () => {
    const first = await raw(readySocket(url, A.readToken));
    first.send({ type: 'subscribe', channel: 'metrics:resume' });
    await waitFor(() => first.of('subscribed').length === 1);
    const { epoch } = first.of('subscribed')[0];
    await publish(A.id, 'metrics:resume', 10);
    const { client: c } = client(url, A.readToken, fast);
    const sub = record(c, 'metrics:resume', { since: 7, epoch });
    await waitFor(() => sub.seqs().length === 3);
    expect(sub.seqs()).toEqual([8, 9, 10]);
    await publish(A.id, 'metrics:resume', 1, 11);
    await waitFor(() => sub.seqs().length === 4);
    expect(sub.seqs()).toEqual([8, 9, 10, 11]);
    expect(sub.events.every((e) => e.type === 'message')).toBe(true);
  });

  it('publishes stored events on `events` exactly as GET /v1/events/recent lists them, only while live', async () => {
    const batch = [trackEvent({ event: 'One' }), trackEvent({ event: 'Two', userId: 'u-2' })];
    expect((await post(`${url}/v1/batch`, { batch }, { writeKey: QUIET.writeKey })).status).toBe(200);
    const stored = (await recent(url, QUIET.readToken)).body.events;
    expect(stored).toHaveLength(2);
    // Nobody listens: nothing is written.
    await collector.realtime.eventsStored(QUIET.id, stored);
    const none = await collector.database.query<{ n: unknown }>('SELECT count(*) AS n FROM realtime_messages WHERE project_id = $1', [QUIET.id]);
    expect(Number(none.rows[0]!.n)).toBe(0);

    const { client: c } = client(url, QUIET.readToken, fast);
    const sub = record(c, 'events');
    await waitFor(() => c.cursor('events') !== undefined, 5000, 'subscribed');
    await collector.realtime.eventsStored(QUIET.id, stored);
    await waitFor(() => sub.messages().length === 2);
    expect(sub.messages().map((m) => m.kind)).toEqual(['event', 'event']);
    expect(sub.messages().map((m) => m.data)).toEqual(stored);
  });

  it('ingest publishes what it stored to live `events` subscribers, once: a resent batch and duplicates publish nothing', async () => {
    const { client: c } = client(url, LIVE.readToken, fast);
    const sub = record(c, 'events');
    await waitFor(() => c.cursor('events') !== undefined, 5000, 'subscribed');
    const first = [trackEvent({ event: 'Live 1' }), trackEvent({ event: 'Live 2' })];
    expect((await post(`${url}/v1/batch`, { batch: first }, { writeKey: LIVE.writeKey })).status).toBe(200);
    await waitFor(() => sub.messages().length === 2, 5000, 'two events');
    // The same batch again (a lost answer), then one new event beside a repeated one.
    expect((await post(`${url}/v1/batch`, { batch: first }, { writeKey: LIVE.writeKey })).body).toMatchObject({ accepted: 0, duplicates: 2 });
    const third = trackEvent({ event: 'Live 3' });
    expect((await post(`${url}/v1/batch`, { batch: [first[0], third] }, { writeKey: LIVE.writeKey })).body).toMatchObject({ accepted: 1, duplicates: 1 });
    await waitFor(() => sub.messages().length === 3, 5000, 'the third event');
    await sleep(300);
    const stored = (await recent(url, LIVE.readToken)).body.events;
    expect(sub.seqs()).toEqual([1, 2, 3]);
    expect(sub.messages().map((m) => m.data)).toEqual([...stored].reverse());
  });

  it('holds a long poll until a message comes, then answers with it', async () => {
    const { body: first } = await poll(url, A.readToken, [['metrics:hold', null, null]]);
    expect(first.frames).toEqual([{ type: 'subscribed', channel: 'metrics:hold', seq: 0, epoch: expect.any(String) }]);
    const { epoch } = first.frames[0];
    const held = poll(url, A.readToken, [['metrics:hold', 0, epoch]], { wait: '10' });
    await sleep(400);
    await publish(A.id, 'metrics:hold', 2);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeGreaterThanOrEqual(350);
    expect(answer.ms).toBeLessThan(5000);
    expect(answer.body.more).toBe(false);
    expect(answer.body.frames.map((f: { seq: number }) => f.seq)).toEqual([1, 2]);
    expect(answer.body.frames[0]).toMatchObject({ type: 'message', channel: 'metrics:hold', kind: 'alert', data: { id: 1 } });
    // Nothing new: a poll with wait=1 answers empty after about a second.
    const idle = await poll(url, A.readToken, [['metrics:hold', 2, epoch]], { wait: '1' });
    expect(idle.body).toEqual({ frames: [], more: false });
    expect(idle.ms).toBeGreaterThanOrEqual(900);
  });

  it('answers at most 500 messages per poll, with more: true', async () => {
    const { body: first } = await poll(url, A.readToken, [['metrics:many', null, null]]);
    const { epoch } = first.frames[0];
    await publish(A.id, 'metrics:many', 600);
    const page = await poll(url, A.readToken, [['metrics:many', 0, epoch]], { wait: '0' });
    expect(page.body.more).toBe(true);
    expect(page.body.frames.map((f: { seq: number }) => f.seq)).toEqual(range(1, 500));
    const rest = await poll(url, A.readToken, [['metrics:many', 500, epoch]], { wait: '0' });
    expect(rest.body.more).toBe(false);
    expect(rest.body.frames.map((f: { seq: number }) => f.seq)).toEqual(range(501, 600));
  });

  it('serves the same seqs and messages on the socket and by polling', async () => {
    const socket = await raw(readySocket(url, A.readToken));
    socket.send({ type: 'subscribe', channel: 'metrics:same' });
    await waitFor(() => socket.of('subscribed').length === 1);
    const { epoch } = socket.of('subscribed')[0];
    await publish(A.id, 'metrics:same', 10);
    await waitFor(() => socket.of('message').length === 10);
    const polled = await poll(url, A.readToken, [['metrics:same', 4, epoch]], { wait: '0' });
    expect(polled.body.frames).toEqual(socket.of('message').slice(4));
    // The socket resumes from where a poll left off.
    const resumed = await raw(readySocket(url, A.readToken));
    resumed.send({ type: 'subscribe', channel: 'metrics:same', since: 8, epoch });
    await waitFor(() => resumed.of('message').length === 2);
    expect(resumed.frames.slice(1)).toEqual([{ type: 'subscribed', channel: 'metrics:same', seq: 8, epoch }, ...socket.of('message').slice(8)]);
  });

  it('a client that switches transport mid-stream sees each seq once, in order', async () => {
    const blockable = blockableWebSocket();
    const { client: c, states } = client(url, A.readToken, { ...fast, WebSocket: blockable.WebSocket });
    const sub = record(c, 'metrics:switch');
    await waitFor(() => c.state === 'open' && c.cursor('metrics:switch') !== undefined, 5000, 'open');
    const total = 300;
    let published = 0;
    const publisher = (async () => {
      while (published < total) {
        await publish(A.id, 'metrics:switch', 1, ++published);
        await sleep(5);
      }
    })();
    await waitFor(() => sub.seqs().length >= 50, 10_000, 'first messages on the socket');
    blockable.control.blocked = true;
    blockable.cut();
    await waitFor(() => c.state === 'polling', 10_000, 'polling');
    const onPolling = sub.seqs().length;
    await waitFor(() => sub.seqs().length >= onPolling + 30, 10_000, 'messages by polling');
    blockable.control.blocked = false;
    await waitFor(() => c.state === 'open', 15_000, 'back on the socket');
    await publisher;
    await waitFor(() => sub.seqs().length === total, 10_000, 'every message');
    expect(sub.seqs()).toEqual(range(1, total));
    expect(sub.messages().map((m) => (m.data as { id: number }).id)).toEqual(range(1, total));
    expect(sub.events.some((e) => e.type !== 'message')).toBe(false);
    expect(states.map(([state]) => state)).toEqual(expect.arrayContaining(['polling', 'open']));
  }, 60_000);

  it("never gives a project's messages to another project's token, on either transport", async () => {
    const a = await raw(readySocket(url, A.readToken));
    const b = await raw(readySocket(url, B.readToken));
    a.send({ type: 'subscribe', channel: 'metrics:iso' });
    b.send({ type: 'subscribe', channel: 'metrics:iso' });
    await waitFor(() => a.of('subscribed').length === 1 && b.of('subscribed').length === 1);
    const epochB = b.of('subscribed')[0].epoch;
    await publish(A.id, 'metrics:iso', 3);
    await collector.realtime.publish(B.id, 'metrics:iso', 'alert', [{ id: 'only-b' }]);
    await waitFor(() => a.of('message').length === 3 && b.of('message').length === 1);
    await sleep(100);
    expect(a.of('message').map((m) => m.data)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(b.of('message')).toEqual([expect.objectContaining({ seq: 1, data: { id: 'only-b' } })]);
    const polled = await poll(url, B.readToken, [['metrics:iso', 0, epochB]], { wait: '0' });
    expect(polled.body.frames).toEqual(b.of('message'));
    const { client: c } = client(url, B.readToken, fast);
    const sub = record(c, 'metrics:iso', { since: 0, epoch: epochB });
    await waitFor(() => sub.messages().length === 1);
    await sleep(100);
    expect(sub.messages().map((m) => m.data)).toEqual([{ id: 'only-b' }]);
  });

  it('delivers 1,000 messages in order through one socket, published concurrently', async () => {
    const { client: c, states } = client(url, A.readToken, fast);
    const sub = record(c, 'metrics:thousand');
    await waitFor(() => c.state === 'open' && c.cursor('metrics:thousand') !== undefined, 5000, 'subscribed');
    let next = 0;
    // Eight publishers at once: commits may complete out of order, delivery may not.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 1000) {
          const id = ++next;
          await collector.realtime.publish(A.id, 'metrics:thousand', 'metric_update', [{ id }]);
        }
      }),
    );
    await waitFor(() => sub.seqs().length === 1000, 20_000, '1,000 messages');
    expect(sub.seqs()).toEqual(range(1, 1000));
    expect(new Set(sub.messages().map((m) => (m.data as { id: number }).id)).size).toBe(1000);
    expect(states).toEqual([['open', 'ready']]);
  }, 60_000);

  it('drops what is published while nobody listens, and a lapsed lease draws a new epoch (reset)', async () => {
    const socket = await raw(readySocket(url, A.readToken));
    socket.send({ type: 'subscribe', channel: 'metrics:lapse' });
    await waitFor(() => socket.of('subscribed').length === 1);
    const { epoch } = socket.of('subscribed')[0];
    await publish(A.id, 'metrics:lapse', 1);
    await waitFor(() => socket.of('message').length === 1);
    socket.ws.close();
    await socket.closed;
    // The lease ends (as 90 s after the last subscriber would): publishing is a no-op.
    await collector.database.query(
      "UPDATE realtime_channels SET live_until = now() - interval '1 second' WHERE project_id = $1 AND channel = $2",
      [A.id, 'metrics:lapse'],
    );
    expect(await publish(A.id, 'metrics:lapse', 1, 2)).toBeNull();
    expect(await collector.realtime.publish(A.id, 'metrics:never', 'alert', [{}])).toBeNull();
    const again = await raw(readySocket(url, A.readToken));
    again.send({ type: 'subscribe', channel: 'metrics:lapse', since: 1, epoch });
    await waitFor(() => again.of('reset').length === 1);
    const reset = again.of('reset')[0];
    expect(reset).toEqual({ type: 'reset', channel: 'metrics:lapse', seq: 1, epoch: expect.any(String), since: 1 });
    expect(reset.epoch).not.toBe(epoch);
    expect(reset.epoch.length).toBeLessThanOrEqual(32);
  });

  it('refuses misuse of publish with a message that says what to do', async () => {
    await expect(collector.realtime.publish(A.id, 'nope', 'alert', [{}])).rejects.toThrow(/not a channel/);
    await expect(collector.realtime.publish(A.id, 'alerts', '', [{}])).rejects.toThrow(/kind/);
    await expect(collector.realtime.publish(A.id, 'alerts', 'alert', [{ big: 'x'.repeat(70_000) }])).rejects.toThrow(/64 KB/);
  });
});
