import { describe, expect, it } from 'vitest';
import type { OnlineManager, VisibilityManager } from '../index';
import { client, fast, record, server, sleep, waitFor } from './helpers/rig';

const resources = () => {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};

function countingManagers() {
  const live = { online: 0, visibility: 0 };
  const onlineManager: OnlineManager = {
    isOnline: () => true,
    subscribe: () => (live.online++, () => void live.online--),
  };
  const visibilityManager: VisibilityManager = {
    isVisible: () => true,
    subscribe: () => (live.visibility++, () => void live.visibility--),
  };
  return { live, onlineManager, visibilityManager };
}

describe('memory stays bounded over many reconnects', () => {
  it('after 60 reconnect cycles (drops, 4503, refused upgrades) timers, sockets and listeners are as before', async () => {
    const s = await server();
    const m = countingManagers();
    const { client: c } = client(s, { ...fast, reconnectMaxMs: 100, failoverMs: 100, onlineManager: m.onlineManager, visibilityManager: m.visibilityManager });
    const ev = record(c, 'events');
    await waitFor(() => c.state === 'open' && s.socketSubscribers('events') === 1);
    await sleep(200);
    const before = resources();
    let seq = 0;
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) s.dropConnections();
      else if (i % 3 === 1) s.closeSockets(4503);
      else {
        // Refused long enough for polling to take over, then back to the socket.
        s.refuseUpgrades();
        s.dropConnections();
        await waitFor(() => c.state === 'polling', 3000, 'polling');
        s.refuseUpgrades(false);
      }
      seq = s.publish('events', 1);
      await waitFor(() => c.state === 'open' && s.socketSubscribers('events') === 1, 5000, 'open again');
    }
    await waitFor(() => ev.seqs().length === seq, 5000, 'every message');
    expect(ev.seqs()).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    // Retry waits that reconnecting-websocket cannot cancel last at most reconnectMaxMs.
    await sleep(300);
    const after = resources();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    // fetch keeps the last poll's connection alive for a few seconds (undici keepAliveTimeout 4 s).
    await waitFor(() => (resources().TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0), 8000, 'sockets released');
    expect(m.live).toEqual({ online: 1, visibility: 1 });
    expect(s.openSockets()).toBe(1);
    c.close();
    expect(m.live).toEqual({ online: 0, visibility: 0 });
    await waitFor(() => s.openSockets() === 0);
  });

  it('close() leaves no timer and no socket behind', async () => {
    const base = resources();
    const s = await server();
    s.refuseUpgrades();
    const { client: c } = client(s, fast);
    record(c, 'events');
    await waitFor(() => c.state === 'polling');
    c.close();
    await s.close();
    await sleep(500);
    expect(resources().Timeout ?? 0).toBeLessThanOrEqual(base.Timeout ?? 0);
    await waitFor(() => (resources().TCPSocketWrap ?? 0) <= (base.TCPSocketWrap ?? 0), 8000, 'sockets released');
  });
});
