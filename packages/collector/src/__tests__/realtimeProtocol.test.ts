import { createRealtimeClient, type RealtimeEvent } from '@sightline/realtime';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../index';
import { BACKENDS, basic, startTestCollector, useBackend } from './helpers';
import { poll, range, rawSocket, type RawSocket, readySocket, useCleanups, waitFor } from './realtimeHelpers';

const P = { id: 'proto', writeKey: 'wk-proto', readToken: 'rt-proto' };

const { cleanups, track } = useCleanups();

describe.each(BACKENDS)('realtime protocol edges on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend, { projects: [P], realtime: { authTimeoutMs: 300 } });
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });

  /** Open a socket, send `frames` one by one, and resolve with how it closed. */
  async function closeCodeAfter(...frames: (string | Buffer | object)[]): Promise<number> {
    const socket = track(rawSocket(url));
    await socket.opened;
    for (const frame of frames) socket.ws.send(Buffer.isBuffer(frame) || typeof frame === 'string' ? frame : JSON.stringify(frame));
    return (await socket.closed).code;
  }

  it('closes 4403 for a write key, 4401 for an unknown token, 4408 without auth', async () => {
    expect(await closeCodeAfter({ type: 'auth', token: P.writeKey })).toBe(4403);
    expect(await closeCodeAfter({ type: 'auth', token: 'nobody' })).toBe(4401);
    const started = Date.now();
    expect(await closeCodeAfter()).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('closes 4400 for bad frames and 1009 for a frame over 16 KB', async () => {
    const auth = { type: 'auth', token: P.readToken };
    expect(await closeCodeAfter('not json')).toBe(4400);
    expect(await closeCodeAfter({ type: 'subscribe', channel: 'events' })).toBe(4400);
    expect(await closeCodeAfter({ type: 'auth' })).toBe(4400);
    expect(await closeCodeAfter(auth, auth)).toBe(4400);
    expect(await closeCodeAfter(auth, { type: 'shout' })).toBe(4400);
    expect(await closeCodeAfter(auth, '[1,2]')).toBe(4400);
    expect(await closeCodeAfter(auth, Buffer.from('{"type":"ping"}'))).toBe(4400);
    expect(await closeCodeAfter(auth, { type: 'subscribe', channel: 'events', since: 3 })).toBe(4400);
    expect(await closeCodeAfter(auth, { type: 'subscribe', channel: 'events', since: -1, epoch: 'e' })).toBe(4400);
    expect(await closeCodeAfter(auth, { type: 'ping', pad: 'x'.repeat(17 * 1024) })).toBe(1009);
  });

  it('handles pipelined frames in order, answers ping, and refuses a bad channel with an error frame only', async () => {
    const socket = track(rawSocket(url));
    await socket.opened;
    for (const frame of [
      { type: 'auth', token: P.readToken },
      { type: 'subscribe', channel: 'bogus' },
      { type: 'subscribe', channel: 'health' },
      { type: 'ping' },
      { type: 'unsubscribe', channel: 'never-subscribed' },
    ]) {
      socket.send(frame);
    }
    await waitFor(() => socket.of('pong').length === 1);
    expect(socket.frames.map((f) => f.type)).toEqual(['ready', 'error', 'subscribed', 'pong']);
    expect(socket.frames[1]).toEqual({ type: 'error', channel: 'bogus', code: 'invalid_channel', message: expect.any(String) });
    await collector.realtime.publish(P.id, 'health', 'health_change', [{ system: 'db', status: 'ok' }]);
    await waitFor(() => socket.of('message').length === 1);
    socket.send({ type: 'unsubscribe', channel: 'health' });
    socket.send({ type: 'ping' });
    await waitFor(() => socket.of('pong').length === 2);
    await collector.realtime.publish(P.id, 'health', 'health_change', [{ system: 'db', status: 'down' }]);
    socket.send({ type: 'ping' });
    await waitFor(() => socket.of('pong').length === 3);
    expect(socket.of('message')).toHaveLength(1);
  });

  it('refuses the 101st subscription of a socket with an error frame; the others go on', async () => {
    const socket = track(await readySocket(url, P.readToken));
    for (const i of range(0, 100)) socket.send({ type: 'subscribe', channel: `metrics:m${i}` });
    // Subscribing again to an active channel restarts it, also at the limit.
    socket.send({ type: 'subscribe', channel: 'metrics:m0' });
    socket.send({ type: 'ping' });
    await waitFor(() => socket.of('pong').length === 1, 20_000, 'all answers');
    expect(socket.of('subscribed')).toHaveLength(101);
    expect(socket.of('error')).toEqual([
      { type: 'error', channel: 'metrics:m100', code: 'too_many_subscriptions', message: expect.any(String) },
    ]);
    await collector.realtime.publish(P.id, 'metrics:m99', 'metric_update', [{ n: 1 }]);
    await waitFor(() => socket.of('message').length === 1);
    expect(socket.of('message')[0]).toMatchObject({ channel: 'metrics:m99', seq: 1 });
  }, 30_000);

  it('answers poll errors with the error body: 401, 403, 400 invalid_query; a bad channel is an error frame at once', async () => {
    const events: [string, null, null][] = [['events', null, null]];
    expect((await poll(url, null, events)).status).toBe(401);
    expect((await poll(url, 'nobody', events)).status).toBe(401);
    expect((await poll(url, P.writeKey, events)).status).toBe(403);
    const basicAnswer = await poll(url, null, events, {}, { authorization: basic(P.writeKey) });
    expect(basicAnswer.status).toBe(403);
    expect(basicAnswer.body).toEqual({ error: { code: 'forbidden', message: expect.any(String), details: null } });
    for (const extra of [{ wait: '26' }, { wait: '1.5' }, { since: '3' }]) {
      const answer = await poll(url, P.readToken, events, extra);
      expect(answer.status, JSON.stringify(extra)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_query');
    }
    const bad = await poll(url, P.readToken, [['nope', null, null]], { wait: '25' });
    expect(bad.status).toBe(200);
    expect(bad.ms).toBeLessThan(2000);
    expect(bad.body).toEqual({ frames: [{ type: 'error', channel: 'nope', code: 'invalid_channel', message: expect.any(String) }], more: false });
  });

  it('supports CORS on the poll endpoint, Authorization included, errors too', async () => {
    const preflight = await fetch(`${url}/v1/realtime/poll`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dash.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const refused = await poll(url, null, [['events', null, null]], {}, { origin: 'https://dash.example' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    const ok = await poll(url, P.readToken, [['events', null, null]], {}, { origin: 'https://dash.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    expect(ok.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(ok.headers.get('cache-control')).toBe('no-store');
  });
});

describe.each(BACKENDS)('realtime limits on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend, {
      projects: [P],
      realtime: { history: { size: 10 }, maxBufferedBytes: 64 * 1024, pruneIntervalMs: 100 },
    });
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('answers reset to a since older than the history, on both transports, and the client tells its listener', async () => {
    const socket = track(await readySocket(url, P.readToken));
    socket.send({ type: 'subscribe', channel: 'metrics:h' });
    await waitFor(() => socket.of('subscribed').length === 1);
    const { epoch } = socket.of('subscribed')[0];
    await collector.realtime.publish(P.id, 'metrics:h', 'metric_update', range(1, 30).map((n) => ({ n })));

    const old = track(await readySocket(url, P.readToken));
    old.send({ type: 'subscribe', channel: 'metrics:h', since: 5, epoch });
    old.send({ type: 'subscribe', channel: 'metrics:h', since: 20, epoch });
    await waitFor(() => old.of('message').length === 10);
    expect(old.frames.slice(1, 3)).toEqual([
      { type: 'reset', channel: 'metrics:h', seq: 30, epoch, since: 5 },
      { type: 'subscribed', channel: 'metrics:h', seq: 20, epoch },
    ]);
    expect(old.of('message').map((m) => m.seq)).toEqual(range(21, 30));

    const polled = await poll(url, P.readToken, [['metrics:h', 5, epoch]], { wait: '0' });
    expect(polled.body.frames).toEqual([{ type: 'reset', channel: 'metrics:h', seq: 30, epoch, since: 5 }]);
    const ahead = await poll(url, P.readToken, [['metrics:h', 31, epoch]], { wait: '0' });
    expect(ahead.body.frames).toEqual([{ type: 'reset', channel: 'metrics:h', seq: 30, epoch, since: 31 }]);
    const otherEpoch = await poll(url, P.readToken, [['metrics:h', 25, 'old-epoch']], { wait: '0' });
    expect(otherEpoch.body.frames[0]).toMatchObject({ type: 'reset', seq: 30, epoch, since: 25 });

    const events: RealtimeEvent[] = [];
    const c = createRealtimeClient({ url, getToken: () => P.readToken, WebSocket });
    cleanups.push(() => c.close());
    c.subscribe('metrics:h', (e) => events.push(e), { since: 5, epoch });
    await waitFor(() => events.length === 1);
    expect(events[0]).toEqual({ type: 'reset', channel: 'metrics:h', seq: 30, epoch });
    await collector.realtime.publish(P.id, 'metrics:h', 'metric_update', [{ n: 31 }]);
    await waitFor(() => events.length === 2);
    expect(events[1]).toMatchObject({ type: 'message', seq: 31 });
  });

  it('prunes the history to its count bound', async () => {
    const socket = track(await readySocket(url, P.readToken));
    socket.send({ type: 'subscribe', channel: 'metrics:prune' });
    await waitFor(() => socket.of('subscribed').length === 1);
    await collector.realtime.publish(P.id, 'metrics:prune', 'metric_update', range(1, 25).map((n) => ({ n })));
    const count = async () =>
      Number(
        (
          await collector.database.query<{ n: unknown }>(
            'SELECT count(*) AS n FROM realtime_messages WHERE project_id = $1 AND channel = $2',
            [P.id, 'metrics:prune'],
          )
        ).rows[0]!.n,
      );
    let rows = 25;
    const end = Date.now() + 5000;
    while (Date.now() < end && (rows = await count()) > 10) await new Promise((r) => setTimeout(r, 50));
    expect(rows).toBe(10);
  });

  it('closes a slow consumer with 4503 instead of buffering without bound', async () => {
    const socket = track(await readySocket(url, P.readToken));
    socket.send({ type: 'subscribe', channel: 'metrics:slow' });
    await waitFor(() => socket.of('subscribed').length === 1);
    // The client stops reading: the kernel's buffers fill, then the server's.
    socket.ws.pause();
    const big = 'x'.repeat(40_000);
    for (let i = 0; i < 30; i++) {
      await collector.realtime.publish(P.id, 'metrics:slow', 'metric_update', range(1, 10).map((n) => ({ n, big })));
    }
    socket.ws.resume();
    const { code } = await socket.closed;
    expect(code).toBe(4503);
    expect(socket.of('message').length).toBeGreaterThan(0);
    expect(socket.of('message').length).toBeLessThan(300);
  }, 30_000);
});

describe.each(BACKENDS)('realtime lifecycle on %s', (name) => {
  const backend = useBackend(name);

  it('pings sockets and cuts one that does not answer', async () => {
    const collector = await startTestCollector(backend, { projects: [P], realtime: { pingIntervalMs: 200 } });
    cleanups.push(() => collector.close());
    const { url } = collector;
    const answering = track(await readySocket(url, P.readToken));
    const silent = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/realtime`, { autoPong: false });
    cleanups.push(() => silent.terminate());
    const pings: number[] = [];
    silent.on('ping', () => pings.push(Date.now()));
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send(JSON.stringify({ type: 'auth', token: P.readToken }));
    // Terminated without a close frame: 1006 on this side.
    expect(await closed).toBe(1006);
    expect(pings.length).toBeGreaterThanOrEqual(1);
    answering.send({ type: 'ping' });
    await waitFor(() => answering.of('pong').length === 1);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
  });


  it('closes sockets with 1001 and answers waiting polls at once, so close() is prompt', async () => {
    const collector = await startTestCollector(backend, { projects: [P] });
    const { url } = collector;
    const sockets = [track(await readySocket(url, P.readToken)), track(await readySocket(url, P.readToken))];
    for (const socket of sockets) socket.send({ type: 'subscribe', channel: 'events' });
    await waitFor(() => sockets.every((s) => s.of('subscribed').length === 1));
    const { epoch } = sockets[0]!.of('subscribed')[0];
    const clientStates: string[] = [];
    const c = createRealtimeClient({ url, getToken: () => P.readToken, WebSocket, onError: () => {} });
    cleanups.push(() => c.close());
    c.on('state', (state) => clientStates.push(state));
    c.subscribe('alerts', () => {});
    await waitFor(() => c.state === 'open');
    const polls = [
      poll(url, P.readToken, [['events', 0, epoch]], { wait: '25' }),
      poll(url, P.readToken, [['events', 0, epoch]], { wait: '25' }),
    ];
    // Let the polls reach the hold.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await collector.close();
    expect(Date.now() - started).toBeLessThan(3000);
    for (const socket of sockets) expect((await socket.closed).code).toBe(1001);
    for (const answer of await Promise.all(polls)) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ frames: [], more: false });
      expect(answer.ms).toBeLessThan(5000);
    }
    await waitFor(() => c.state !== 'open');
  });
});
