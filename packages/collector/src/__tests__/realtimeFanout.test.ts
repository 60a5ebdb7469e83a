import { createRealtimeClient, type RealtimeEvent } from '@sightline/realtime';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../index';
import { LIVE_REFRESH_MS } from '../realtime/hub';
import { LISTEN_APPLICATION_NAME, MAX_PAYLOAD_BYTES, parsePayload, splitPayloads, type ChannelPointer } from '../realtime/notifier';
import { openPgDatabase } from '../index';
import { post, startTestCollector, trackEvent, useBackend, useTwoCollectors } from './helpers';
import { poll, range, sleep, waitFor } from './realtimeHelpers';

const P = { id: 'fan', writeKey: 'wk-fan', readToken: 'rt-fan' };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function subscribe(url: string, channel: string) {
  const c = createRealtimeClient({ url, getToken: () => P.readToken, WebSocket, readyTimeoutMs: 1000 });
  cleanups.push(() => c.close());
  const events: RealtimeEvent[] = [];
  c.subscribe(channel, (event) => events.push(event));
  const messages = () => events.filter((e) => e.type === 'message');
  return { client: c, events, messages, seqs: () => messages().map((m) => m.seq) };
}

describe('NOTIFY payloads', () => {
  it('split under the 8,000-byte limit and parse back', () => {
    const pointers: ChannelPointer[] = range(1, 400).map((i) => [`project-${i}`, `metrics:name-${i}`, i * 1000]);
    const payloads = splitPayloads(pointers);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap((p) => parsePayload(p))).toEqual(pointers);
    expect(parsePayload('not json')).toEqual([]);
    expect(parsePayload('[["p","c",1],["bad"],["p","c","x"]]')).toEqual([['p', 'c', 1]]);
  });
});

// Two collector processes on one PostgreSQL database, as two `createCollector` instances in this
// test process (useTwoCollectors; realtimeProcesses.test.ts runs two OS processes).
describe('realtime fan-out across collectors on one PostgreSQL (LISTEN/NOTIFY)', () => {
  const backend = useBackend('postgres');
  const pair = useTwoCollectors(backend, { projects: [P] });

  const publishOnA = (channel: string, from: number, to: number) =>
    pair.a.realtime.publish(P.id, channel, 'alert', range(from, to).map((i) => ({ id: i })));
  const listenConnections = async () => {
    const { rows } = await pair.a.database.query<{ n: unknown }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [LISTEN_APPLICATION_NAME],
    );
    return Number(rows[0]!.n);
  };

  it('each collector holds one dedicated LISTEN connection', async () => {
    let n = 0;
    const end = Date.now() + 5000;
    while ((n = await listenConnections()) < 2 && Date.now() < end) await sleep(50);
    expect(n).toBe(2);
  });

  it("a socket on B gets A's publishes within about a second, once and in order; A's own socket gets no duplicates", async () => {
    const onB = subscribe(pair.b.url, 'alerts');
    const onA = subscribe(pair.a.url, 'alerts');
    await waitFor(() => onB.client.cursor('alerts') !== undefined && onA.client.cursor('alerts') !== undefined, 5000, 'subscribed');

    const started = Date.now();
    expect(await publishOnA('alerts', 1, 3)).toMatchObject({ firstSeq: 1, lastSeq: 3 });
    await waitFor(() => onB.seqs().length >= 3, 1500, 'three messages on B');
    expect(Date.now() - started).toBeLessThan(1500);
    await publishOnA('alerts', 4, 4);
    await publishOnA('alerts', 5, 9);
    await waitFor(() => onB.seqs().length >= 9, 1500, 'nine messages on B');
    // Echoed NOTIFYs, the safety check and the leases' heads must not cause a second delivery.
    await sleep(5500);
    expect(onB.seqs()).toEqual(range(1, 9));
    expect(onA.seqs()).toEqual(range(1, 9));
    expect(onB.messages().map((m) => (m as { data: unknown }).data)).toEqual(range(1, 9).map((id) => ({ id })));
    expect(onB.events.every((e) => e.type === 'message')).toBe(true);
  });

  it("a socket on B gets the events ingested through A's POST /v1/batch", async () => {
    const onB = subscribe(pair.b.url, 'events');
    await waitFor(() => onB.client.cursor('events') !== undefined, 5000, 'subscribed');
    // A sees B's lease at its next refresh of the live channels.
    await sleep(LIVE_REFRESH_MS + 500);
    const batch = [trackEvent({ event: 'Fan 1' }), trackEvent({ event: 'Fan 2' }), trackEvent({ event: 'Fan 3' })];
    const started = Date.now();
    expect((await post(`${pair.a.url}/v1/batch`, { batch }, { writeKey: P.writeKey })).status).toBe(200);
    await waitFor(() => onB.seqs().length >= 3, 1500, 'three events on B');
    expect(Date.now() - started).toBeLessThan(1500);
    await sleep(300);
    expect(onB.seqs()).toEqual([1, 2, 3]);
    expect(onB.messages().map((m) => (m as { data: { event: string } }).data.event)).toEqual(['Fan 1', 'Fan 2', 'Fan 3']);
  });

  it('a long poll waiting on B is woken by a publish on A', async () => {
    const { body: first } = await poll(pair.b.url, P.readToken, [['metrics:fan-poll', null, null]]);
    const { epoch } = first.frames[0];
    const held = poll(pair.b.url, P.readToken, [['metrics:fan-poll', 0, epoch]], { wait: '10' });
    await sleep(300);
    await publishOnA('metrics:fan-poll', 1, 2);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(2000);
    expect(answer.body.frames.map((f: { seq: number }) => f.seq)).toEqual([1, 2]);
  });

  it('keeps delivering after the LISTEN connections are killed (reconnect and catch-up)', async () => {
    const onB = subscribe(pair.b.url, 'insights');
    await waitFor(() => onB.client.cursor('insights') !== undefined, 5000, 'subscribed');
    await publishOnA('insights', 1, 1);
    await waitFor(() => onB.seqs().length === 1, 1500, 'the first message');

    const { rows } = await pair.a.database.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [LISTEN_APPLICATION_NAME],
    );
    expect(rows).toHaveLength(2);
    // Published while B listens to nobody: the catch-up after B's reconnect (or the safety check) brings it.
    await publishOnA('insights', 2, 3);
    await waitFor(() => onB.seqs().length === 3, 7000, 'the messages published while disconnected');
    // Reconnected: notifications flow again.
    const end = Date.now() + 5000;
    while ((await listenConnections()) < 2 && Date.now() < end) await sleep(50);
    expect(await listenConnections()).toBe(2);
    const started = Date.now();
    await publishOnA('insights', 4, 4);
    await waitFor(() => onB.seqs().length === 4, 1500, 'a message after the reconnect');
    expect(Date.now() - started).toBeLessThan(1500);
    await sleep(300);
    expect(onB.seqs()).toEqual([1, 2, 3, 4]);
  });

  it('without LISTEN (a database handed in, no URL), the 5 s safety check still delivers', async () => {
    const db = await openPgDatabase(backend.storage().databaseUrl!);
    cleanups.push(() => db.close());
    const c = await startTestCollector(backend, { projects: [P], databaseUrl: undefined, database: db });
    cleanups.push(() => c.close());
    const onC = subscribe(c.url, 'health');
    await waitFor(() => onC.client.cursor('health') !== undefined, 5000, 'subscribed');
    await publishOnA('health', 1, 2);
    await waitFor(() => onC.seqs().length === 2, 6500, 'the safety check');
    await sleep(300);
    expect(onC.seqs()).toEqual([1, 2]);
  });

  it('close() releases the LISTEN connection promptly', async () => {
    const c = await startTestCollector(backend, { projects: [P] });
    const end = Date.now() + 5000;
    while ((await listenConnections()) < 3 && Date.now() < end) await sleep(50);
    expect(await listenConnections()).toBe(3);
    const started = Date.now();
    await c.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const gone = Date.now() + 3000;
    while ((await listenConnections()) > 2 && Date.now() < gone) await sleep(50);
    expect(await listenConnections()).toBe(2);
  });
});
