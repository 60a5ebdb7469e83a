import { describe, expect, it, vi } from 'vitest';
import { createRealtimeClient } from '../index';
import { client, fast, range, record, server, sleep, waitFor } from './helpers/rig';

describe('socket path', () => {
  it('authenticates, subscribes and delivers over the socket, without polling', async () => {
    const s = await server();
    const { client: c, states } = client(s);
    const ev = record(c, 'events');
    await waitFor(() => c.state === 'open' && s.socketSubscribers('events') === 1);
    s.publish('events', 5);
    await waitFor(() => ev.seqs().length === 5);
    expect(ev.seqs()).toEqual(range(1, 5));
    expect(ev.events[0]).toMatchObject({ type: 'message', channel: 'events', seq: 1, kind: 'event', data: { n: 1 } });
    expect(states).toEqual([['open', 'ready']]);
    expect(s.stats.polls).toBe(0);
    expect(c.cursor('events')).toEqual({ seq: 5, epoch: s.channelState('events').epoch });
  });

  it('resumes from since/epoch given at subscribe', async () => {
    const s = await server();
    s.publish('events', 10);
    const { client: c } = client(s);
    const ev = record(c, 'events', { since: 7, epoch: s.channelState('events').epoch });
    await waitFor(() => ev.seqs().length === 3);
    expect(ev.seqs()).toEqual([8, 9, 10]);
  });

  it('since older than the history: one reset, then live messages', async () => {
    const s = await server({ historySize: 10 });
    const epoch = s.channelState('events').epoch;
    s.publish('events', 50);
    const { client: c } = client(s, fast);
    const ev = record(c, 'events', { since: 5, epoch });
    await waitFor(() => ev.events.length === 1);
    expect(ev.events[0]).toEqual({ type: 'reset', channel: 'events', seq: 50, epoch });
    s.publish('events', 2);
    await waitFor(() => ev.seqs().length === 2);
    expect(ev.seqs()).toEqual([51, 52]);
    expect(ev.events.filter((e) => e.type === 'reset')).toHaveLength(1);
  });

  it('another epoch (history lost): reset to the new epoch', async () => {
    const s = await server();
    s.publish('events', 3);
    const old = s.channelState('events').epoch;
    s.newEpoch('events');
    s.publish('events', 1);
    const { client: c } = client(s, fast);
    const ev = record(c, 'events', { since: 3, epoch: old });
    await waitFor(() => ev.events.length === 1);
    expect(ev.events[0]).toMatchObject({ type: 'reset', seq: 1, epoch: s.channelState('events').epoch });
  });

  it('an invalid channel reports an error to its subscriber only', async () => {
    const s = await server();
    const { client: c, errors } = client(s, fast);
    const bad = record(c, 'nope');
    const good = record(c, 'alerts');
    await waitFor(() => bad.events.length === 1 && s.socketSubscribers('alerts') === 1);
    expect(bad.events[0]).toMatchObject({ type: 'error', channel: 'nope', code: 'invalid_channel' });
    expect(errors.some((e) => (e as { code?: string }).code === 'channel')).toBe(true);
    s.publish('alerts', 1);
    await waitFor(() => good.seqs().length === 1);
  });

  it('unsubscribing the last listener stops delivery and unsubscribes on the socket', async () => {
    const s = await server();
    const { client: c } = client(s);
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    ev.off();
    await waitFor(() => s.socketSubscribers('events') === 0);
    s.publish('events', 3);
    await sleep(100);
    expect(ev.events).toEqual([]);
  });
});

describe('listeners', () => {
  it('a listener that throws is reported; the others still run and delivery goes on', async () => {
    const s = await server();
    const { client: c, errors } = client(s);
    c.subscribe('events', () => {
      throw new Error('boom');
    });
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    s.publish('events', 3);
    await waitFor(() => ev.seqs().length === 3);
    expect(errors.filter((e) => (e as { code?: string }).code === 'listener')).toHaveLength(3);
  });

  it('a listener may unsubscribe itself, or close the client, inside its callback', async () => {
    const s = await server();
    const { client: c } = client(s);
    const once: number[] = [];
    const off = c.subscribe('events', (e) => {
      if (e.type === 'message') once.push(e.seq);
      off();
    });
    const ev = record(c, 'events');
    const closer: number[] = [];
    c.subscribe('alerts', (e) => {
      if (e.type === 'message') closer.push(e.seq);
      c.close();
    });
    await waitFor(() => s.socketSubscribers('events') === 1 && s.socketSubscribers('alerts') === 1);
    s.publish('events', 3);
    await waitFor(() => ev.seqs().length === 3);
    expect(once).toEqual([1]);
    s.publish('alerts', 2);
    await waitFor(() => c.state === 'closed');
    s.publish('events', 1);
    await sleep(100);
    expect(closer).toEqual([1]);
    expect(ev.seqs()).toEqual([1, 2, 3]);
  });
});

describe('heartbeat', () => {
  it('a blackholed socket is found dead within seconds, polling fills in, the socket comes back', async () => {
    const s = await server();
    const { client: c, states } = client(s, fast);
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    s.publish('events', 2);
    await waitFor(() => ev.seqs().length === 2);
    const t0 = Date.now();
    s.blackhole();
    await waitFor(() => states.some(([, r]) => r === 'heartbeat-timeout'), 3000);
    // heartbeatMs + heartbeatTimeoutMs (700 ms) plus a timer tick.
    expect(Date.now() - t0).toBeLessThan(1500);
    s.publish('events', 2);
    await waitFor(() => ev.seqs().length === 4);
    await waitFor(() => c.state === 'open');
    s.publish('events', 2);
    await waitFor(() => ev.seqs().length === 6);
    expect(ev.seqs()).toEqual(range(1, 6));
  });

  it('pings a quiet socket and stays open while it answers', async () => {
    const s = await server();
    const { client: c, states } = client(s, fast);
    await waitFor(() => c.state === 'open');
    await sleep(1500);
    expect(s.stats.pings).toBeGreaterThanOrEqual(2);
    expect(states).toEqual([['open', 'ready']]);
  });
});

describe('auth', () => {
  it('4401: asks getToken({ forceRefresh: true }) and then succeeds', async () => {
    const s = await server();
    let cached = 'expired';
    const getToken = vi.fn(({ forceRefresh }: { forceRefresh: boolean }) => (forceRefresh ? (cached = 'read-token') : cached));
    const { client: c } = client(s, { ...fast, getToken });
    const ev = record(c, 'events');
    await waitFor(() => c.state === 'open' && s.socketSubscribers('events') === 1);
    expect(getToken).toHaveBeenCalledWith({ forceRefresh: true });
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 1);
  });

  it('refused twice in a row (after a refresh): closed, unauthorized, no loop', async () => {
    const s = await server();
    const { client: c, errors } = client(s, { ...fast, getToken: () => 'bad' });
    await waitFor(() => c.state === 'closed');
    expect(c.reason).toBe('unauthorized');
    expect(errors.some((e) => (e as { code?: string }).code === 'unauthorized')).toBe(true);
    const seen = s.stats.upgrades + s.stats.polls;
    await sleep(500);
    expect(s.stats.upgrades + s.stats.polls).toBe(seen);
  });

  it('4403 (a write key): closed, forbidden, no retry on either transport', async () => {
    const s = await server();
    const { client: c, errors } = client(s, { ...fast, getToken: () => 'write-key' });
    record(c, 'events');
    await waitFor(() => c.state === 'closed');
    expect(c.reason).toBe('forbidden');
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('forbidden');
    const seen = s.stats.upgrades + s.stats.polls;
    await sleep(500);
    expect(s.stats.upgrades + s.stats.polls).toBe(seen);
  });
});

describe('creation', () => {
  it('without a WebSocket class: a clear [sightline] error', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      expect(() => createRealtimeClient({ url: 'http://127.0.0.1:1', getToken: () => 't' })).toThrow(/\[sightline\].*'ws'/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('since without epoch is misuse', async () => {
    const s = await server();
    const { client: c } = client(s);
    expect(() => c.subscribe('events', () => {}, { since: 3 })).toThrow(/\[sightline\]/);
  });

  it('close() is idempotent and ends every state listener', async () => {
    const s = await server();
    const { client: c, states } = client(s);
    await waitFor(() => c.state === 'open');
    c.close();
    c.close();
    expect(states.at(-1)).toEqual(['closed', 'closed']);
    await waitFor(() => s.openSockets() === 0);
  });
});
