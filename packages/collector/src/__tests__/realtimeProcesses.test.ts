// Two collectors as two OS processes (the CLI, as deployed) on one PostgreSQL database: nothing is
// shared but the database, so what reaches a subscriber of B from ingest at A went through
// LISTEN/NOTIFY and the stored history (issue #4). realtimeFanout.test.ts covers the edges faster
// with two in-process instances.
import { randomUUID } from 'node:crypto';
import { createRealtimeClient, type RealtimeEvent, type RealtimeMessage } from '@sightline/realtime';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Relative on purpose: a workspace dependency on @sightline/testing would be a cycle (testing -> collector).
import { startCollectorProcess, type CollectorProcess } from '../../../testing/src/index';
import { basic, useBackend } from './helpers';
import { waitFor } from './realtimeHelpers';

const writeKey = 'wk-processes';
const readToken = 'rt-processes';

async function ingest(url: string, events: object[]): Promise<void> {
  const response = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch: events }),
  });
  expect(response.status).toBe(200);
}

const trackEvent = (name: string) => ({ type: 'track', event: name, messageId: randomUUID(), anonymousId: `anon-${randomUUID().slice(0, 8)}` });

describe('realtime across two collector processes on one PostgreSQL', () => {
  const backend = useBackend('postgres');
  let a: CollectorProcess;
  let b: CollectorProcess;
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    const { databaseUrl } = backend.storage();
    [a, b] = await Promise.all([
      startCollectorProcess({ writeKey, readToken, databaseUrl: databaseUrl! }),
      startCollectorProcess({ writeKey, readToken, databaseUrl: databaseUrl! }),
    ]);
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  function subscribe(url: string, channel: string) {
    const client = createRealtimeClient({ url, getToken: () => readToken, WebSocket });
    clients.push(client);
    const events: RealtimeEvent[] = [];
    client.subscribe(channel, (event) => events.push(event));
    const messages = () => events.filter((e): e is RealtimeMessage => e.type === 'message');
    return { client, events, messages };
  }

  it('a subscriber of B gets every event ingested at A once, in order, and one of A every event of B', async () => {
    const onB = subscribe(b.url, 'events');
    const onA = subscribe(a.url, 'events');
    await waitFor(() => onB.client.state === 'open' && onA.client.state === 'open', 20_000, 'both sockets open');
    // Let both subscriptions be leased before ingest starts: a channel nobody serves is not published.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const fromA = Array.from({ length: 60 }, () => trackEvent('From A'));
    const fromB = Array.from({ length: 40 }, () => trackEvent('From B'));
    for (let i = 0; i < 3; i++) {
      await ingest(a.url, fromA.slice(i * 20, i * 20 + 20));
      await ingest(b.url, fromB.slice(i * 15, Math.min(40, i * 15 + 15)));
    }
    const ids = new Set([...fromA, ...fromB].map((e) => e.messageId));
    for (const sub of [onB, onA]) {
      await waitFor(() => sub.messages().length >= ids.size, 20_000, 'every event on the other process');
      const got = sub.messages();
      expect(got.map((m) => (m.data as { messageId: string }).messageId).sort()).toEqual([...ids].sort());
      // Contiguous seqs from the first one: no gap, no repeat, in order.
      expect(got.map((m) => m.seq)).toEqual(got.map((_, i) => got[0]!.seq + i));
      expect(sub.events.filter((e) => e.type === 'reset')).toEqual([]);
    }
  });

  it('metrics:$events on A counts what B ingested', async () => {
    const onA = subscribe(a.url, 'metrics:$events');
    await waitFor(() => onA.client.state === 'open', 20_000, 'socket open');
    // Other processes learn that a channel is live within the hub's refresh (2 s).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await ingest(b.url, Array.from({ length: 25 }, () => trackEvent('Counted')));
    // The newest total of each minute bucket, summed (the ingest may straddle a minute boundary).
    const minuteCount = () => {
      const buckets = new Map<string, number>();
      for (const m of onA.messages()) {
        const d = m.data as { interval: string; bucket: string; count: number };
        if (d.interval === '1m') buckets.set(d.bucket, d.count);
      }
      return [...buckets.values()].reduce((sum, n) => sum + n, 0);
    };
    await waitFor(() => minuteCount() >= 25, 20_000, 'the minute total of what B ingested');
    expect(minuteCount()).toBe(25);
  });
});
