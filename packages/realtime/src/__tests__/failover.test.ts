import { describe, expect, it } from 'vitest';
import { client, fast, range, record, server, sleep, waitFor } from './helpers/rig';

describe('failover between socket and long polling', () => {
  it('upgrade refused: long polling delivers within 3 s (default timings)', async () => {
    const s = await server();
    s.refuseUpgrades();
    const { client: c, states } = client(s);
    const ev = record(c, 'events');
    const t0 = Date.now();
    await waitFor(() => c.state === 'polling', 3000);
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 1, 3000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(states[0]).toEqual(['polling', 'poll-ok']);
    expect(s.stats.refusedUpgrades).toBeGreaterThanOrEqual(1);
  });

  it('a socket that opens but never says ready: polling after failoverMs; the ready timeout retries it', async () => {
    const s = await server();
    s.holdNewSockets();
    const { client: c } = client(s, { ...fast, failoverMs: 200, readyTimeoutMs: 500 });
    const ev = record(c, 'events');
    const t0 = Date.now();
    await waitFor(() => c.state === 'polling', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 1);
    await waitFor(() => s.stats.upgrades >= 2, 3000);
    s.holdNewSockets(false);
    await waitFor(() => c.state === 'open', 3000);
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 2);
    expect(ev.seqs()).toEqual([1, 2]);
  });

  it('socket reachable again: it takes over, polling stops, no gap and no repeat', async () => {
    const s = await server();
    s.refuseUpgrades();
    const { client: c } = client(s, fast);
    const ev = record(c, 'events');
    await waitFor(() => c.state === 'polling');
    s.publish('events', 3);
    await waitFor(() => ev.seqs().length === 3);
    s.refuseUpgrades(false);
    await waitFor(() => c.state === 'open', 5000);
    await waitFor(() => s.pendingPolls() === 0);
    const polls = s.stats.polls;
    s.publish('events', 3);
    await waitFor(() => ev.seqs().length === 6);
    await sleep(300);
    expect(s.stats.polls).toBe(polls);
    expect(ev.seqs()).toEqual(range(1, 6));
  });

  it('after the attempts run out it stays on polling and probes the socket back', async () => {
    const s = await server();
    s.refuseUpgrades();
    const { client: c } = client(s, { ...fast, reconnectAttempts: 2, probeMs: [300, 400] });
    record(c, 'events');
    await waitFor(() => s.stats.refusedUpgrades >= 4, 5000);
    const t = Date.now();
    const before = s.stats.refusedUpgrades;
    await sleep(1000);
    // Probes only: one every 300-400 ms, not the retry backoff of 50 ms.
    expect(s.stats.refusedUpgrades - before).toBeLessThanOrEqual(Math.ceil((Date.now() - t) / 300) + 1);
    expect(c.state).toBe('polling');
    s.refuseUpgrades(false);
    await waitFor(() => c.state === 'open', 2000);
  });

  it('transport flipping while 1,000 messages flow: every seq once, in order', async () => {
    const s = await server();
    const { client: c } = client(s, { ...fast, failoverMs: 50, reconnectAttempts: 1000, reconnectMaxMs: 100 });
    const ev = record(c, 'events');
    const metrics = record(c, 'metrics:page_views');
    await waitFor(() => c.state === 'open');
    let flips = 0;
    const flipper = setInterval(() => {
      flips++;
      if (flips % 2) {
        s.refuseUpgrades();
        s.dropConnections();
      } else s.refuseUpgrades(false);
    }, 150);
    try {
      for (let i = 0; i < 100; i++) {
        s.publish('events', 10);
        s.publish('metrics:page_views', 1);
        await sleep(20);
      }
      s.refuseUpgrades(false);
    } finally {
      clearInterval(flipper);
      s.refuseUpgrades(false);
    }
    await waitFor(() => ev.seqs().length >= 1000, 15_000, '1000 messages');
    await waitFor(() => metrics.seqs().length >= 100, 5000);
    await sleep(200);
    expect(ev.events.filter((e) => e.type !== 'message')).toEqual([]);
    expect(ev.seqs()).toEqual(range(1, 1000));
    expect(metrics.seqs()).toEqual(range(1, 100));
    // Both transports carried messages.
    expect(s.stats.pollMessages).toBeGreaterThan(0);
    expect(s.stats.socketMessages).toBeGreaterThan(0);
    expect(flips).toBeGreaterThanOrEqual(10);
  });

  it('the backend restarts (connections dropped): resumes from the cursors, exactly once', async () => {
    const s = await server();
    const { client: c, states } = client(s, fast);
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    s.publish('events', 10);
    await waitFor(() => ev.seqs().length === 10);
    await s.stop();
    s.publish('events', 5); // stored while the client cannot reach it
    await waitFor(() => c.state === 'reconnecting');
    await sleep(300);
    await s.restart();
    await waitFor(() => c.state === 'open', 5000);
    s.publish('events', 5);
    await waitFor(() => ev.seqs().length === 20);
    expect(ev.seqs()).toEqual(range(1, 20));
    expect(states.map(([st]) => st)).toContain('reconnecting');
  });

  it('a graceful shutdown (1001): reconnects and resumes', async () => {
    const s = await server();
    const { client: c } = client(s, fast);
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    s.publish('events', 2);
    s.closeSockets(1001);
    s.publish('events', 2);
    await waitFor(() => ev.seqs().length === 4 && c.state === 'open');
    expect(ev.seqs()).toEqual(range(1, 4));
  });

  it('a poll answered 401 refreshes the token and goes on', async () => {
    const s = await server();
    s.refuseUpgrades();
    const calls: boolean[] = [];
    // Like an app: a cached token until asked to refresh, then the new one.
    let cached = 'expired';
    const { client: c } = client(s, {
      ...fast,
      getToken: ({ forceRefresh }) => (calls.push(forceRefresh), forceRefresh ? (cached = 'read-token') : cached),
    });
    const ev = record(c, 'events');
    await waitFor(() => c.state === 'polling');
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 1);
    expect(calls).toContain(true);
  });

  it('polls answered 429 slow it down (Retry-After) without leaving the polling state', async () => {
    const s = await server();
    s.refuseUpgrades();
    const { client: c } = client(s, fast);
    const ev = record(c, 'events');
    const states: string[] = [];
    await waitFor(() => c.state === 'polling');
    c.on('state', (state) => states.push(state));
    const polls = s.stats.polls;
    s.rateLimitPolls(2);
    // The held poll ends (pollWaitSec), two are refused and waited out (Retry-After: 1 s), then one is held.
    await waitFor(() => s.stats.polls - polls >= 3, 15_000);
    s.publish('events', 1);
    await waitFor(() => ev.seqs().length === 1, 10_000);
    expect(states).toEqual([]);
  });

  it('offline and online through the online manager: stops everything, then resumes at once', async () => {
    const s = await server();
    let emit: (up: boolean) => void = () => {};
    let subscribed = 0;
    const onlineManager = {
      isOnline: () => true,
      subscribe(l: (up: boolean) => void) {
        emit = l;
        subscribed++;
        return () => void subscribed--;
      },
    };
    const { client: c, states } = client(s, { ...fast, onlineManager });
    const ev = record(c, 'events');
    await waitFor(() => s.socketSubscribers('events') === 1);
    emit(false);
    expect(c.state).toBe('offline');
    await waitFor(() => s.openSockets() === 0);
    s.publish('events', 3);
    await sleep(200);
    expect(ev.seqs()).toEqual([]);
    emit(true);
    await waitFor(() => ev.seqs().length === 3);
    expect(states.map(([st, r]) => st + ':' + r)).toEqual(['open:ready', 'offline:offline', 'connecting:online', 'open:ready']);
    c.close();
    expect(subscribed).toBe(0);
  });
});
