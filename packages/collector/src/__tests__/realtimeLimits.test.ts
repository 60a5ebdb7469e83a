import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../index';
import { startTestCollector, useBackend } from './helpers';
import { poll, rawSocket, type RawSocket, readySocket, sleep, useCleanups, waitFor } from './realtimeHelpers';

// A project per test: limits count per project, and a closed socket frees its slot only when the
// server sees the close, so tests must not share one.
const project = (id: string) => ({ id, writeKey: `wk-${id}`, readToken: `rt-${id}` });
const FLOOD = project('flood');
const FULL = project('full');
const OTHER = project('other');
const POLLER = project('poller');
const WAITER = project('waiter');
const BYSTANDER = project('bystander');
const ORIGIN = 'https://dash.example';

const { cleanups, track } = useCleanups();

/** Open a socket and send `auth`: `ready`, or the close code and reason when refused. */
async function authenticate(url: string, token: string): Promise<'ready' | { code: number; reason: string }> {
  const socket = track(rawSocket(url));
  await socket.opened;
  socket.send({ type: 'auth', token });
  // Never rejects: a refused socket closes instead, and the race ends with that.
  const ready = new Promise<'ready'>((resolve) => socket.ws.on('message', () => socket.of('ready').length > 0 && resolve('ready')));
  const outcome = await Promise.race([socket.closed, ready]);
  if (outcome !== 'ready') expect(socket.of('ready')).toEqual([]);
  return outcome;
}

/** The §3.3 body of a refusal. */
const errorBody = (code: string) => ({ error: { code, message: expect.any(String), details: null } });

describe('realtime socket and poll rate limits', () => {
  const backend = useBackend('pglite');
  let collector: Collector;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend, {
      projects: [FLOOD, FULL, OTHER, POLLER, BYSTANDER],
      // Small enough to trigger at once, far from what the other sockets and polls of these tests send.
      realtime: { frameRate: { perSecond: 5, burst: 20 }, maxSocketsPerProject: 2, pollRate: { perSecond: 1, burst: 5 } },
    });
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('closes a socket that floods frames with 4429; other sockets of the project go on', async () => {
    const flooder = track(await readySocket(url, FLOOD.readToken));
    const calm = track(await readySocket(url, FLOOD.readToken));
    calm.send({ type: 'subscribe', channel: 'alerts' });
    await waitFor(() => calm.of('subscribed', 'alerts').length === 1);

    // 200 pings at once: the bucket (20, +5/s) runs dry whatever the machine's load.
    for (let i = 0; i < 200; i++) flooder.send({ type: 'ping' });
    expect(await flooder.closed).toEqual({ code: 4429, reason: 'too many frames' });
    expect(flooder.of('pong').length).toBeLessThan(200);

    calm.send({ type: 'ping' });
    await waitFor(() => calm.of('pong').length === 1, 10_000, 'pong');
    await collector.realtime.publish(FLOOD.id, 'alerts', 'alert', [{ id: 'a1', severity: 'info', status: 'open' }]);
    await waitFor(() => calm.of('message', 'alerts').length === 1, 10_000, 'message');
    expect(calm.ws.readyState).toBe(calm.ws.OPEN);
  });

  it("refuses a project's socket over the limit with 4429 right after auth; another project still connects", async () => {
    expect(await authenticate(url, FULL.readToken)).toBe('ready');
    const second = track(await readySocket(url, FULL.readToken));
    expect(await authenticate(url, FULL.readToken)).toEqual({ code: 4429, reason: 'too many connections for this project' });
    expect(await authenticate(url, OTHER.readToken)).toBe('ready');

    // A closed socket gives its slot back (once the server has seen the close).
    second.ws.close();
    await second.closed;
    let outcome: Awaited<ReturnType<typeof authenticate>> = { code: 0, reason: '' };
    for (let attempt = 0; attempt < 50 && outcome !== 'ready'; attempt++) {
      if (attempt > 0) await sleep(100);
      outcome = await authenticate(url, FULL.readToken);
    }
    expect(outcome).toBe('ready');
  });

  it('answers a plain GET /v1/realtime with 426 upgrade_required, pointing to the WebSocket and the poll endpoint', async () => {
    const response = await fetch(`${url}/v1/realtime`, { headers: { origin: ORIGIN } });
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const body = await response.json();
    expect(body).toEqual(errorBody('upgrade_required'));
    expect(body.error.message).toContain('WebSocket');
    expect(body.error.message).toContain('/v1/realtime/poll');
    // The same path still upgrades.
    expect(await authenticate(url, OTHER.readToken)).toBe('ready');
  });

  it('answers a read token that polls too fast 429 rate_limited with Retry-After; other tokens are unaffected', async () => {
    // One after the other: at most 5 + 1/s pass, so 30 surely meet an empty bucket.
    let refused: Awaited<ReturnType<typeof poll>> | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      const answer = await poll(url, POLLER.readToken, [['alerts', null, null]], { wait: '0' }, { origin: ORIGIN });
      if (answer.status === 429) refused = answer;
      else expect(answer.status).toBe(200);
    }
    expect(refused?.body).toEqual(errorBody('rate_limited'));
    const retryAfter = Number(refused!.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    // CORS lets a browser read the Retry-After.
    expect(refused!.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(refused!.headers.get('access-control-expose-headers')).toContain('Retry-After');

    expect((await poll(url, BYSTANDER.readToken, [['alerts', null, null]], { wait: '0' })).status).toBe(200);
    // After Retry-After the bucket has a token again.
    await sleep(retryAfter * 1000);
    expect((await poll(url, POLLER.readToken, [['alerts', null, null]], { wait: '0' })).status).toBe(200);
  });
});

describe('realtime waiting polls', () => {
  const backend = useBackend('pglite');
  let collector: Collector;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend, { projects: [WAITER, BYSTANDER], realtime: { maxWaitingPolls: 2 } });
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('answers 429 with Retry-After while a project holds too many waiting polls, and serves it again once they end', async () => {
    const first = await poll(url, WAITER.readToken, [['alerts', null, null]], { wait: '0' });
    const { epoch } = first.body.frames[0];
    const held = [1, 2].map(() => poll(url, WAITER.readToken, [['alerts', 0, epoch]], { wait: '25' }));
    // The held polls reach the server in their own time: ask until the project is full.
    let refused: Awaited<ReturnType<typeof poll>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const answer = await poll(url, WAITER.readToken, [['alerts', 0, epoch]], { wait: '0' }, { origin: ORIGIN });
      if (answer.status === 429) refused = answer;
      else await sleep(50);
    }
    expect(refused?.body).toEqual(errorBody('rate_limited'));
    expect(refused!.headers.get('retry-after')).toBe('5');
    expect(refused!.headers.get('access-control-expose-headers')).toContain('Retry-After');
    // Another project is not held back by this one.
    expect((await poll(url, BYSTANDER.readToken, [['alerts', null, null]], { wait: '0' })).status).toBe(200);

    // A message answers the held polls and frees their slots.
    await collector.realtime.publish(WAITER.id, 'alerts', 'alert', [{ id: 'a1', severity: 'info', status: 'open' }]);
    for (const answer of await Promise.all(held)) {
      expect(answer.status).toBe(200);
      expect(answer.body.frames).toMatchObject([{ type: 'message', channel: 'alerts', seq: 1 }]);
    }
    expect((await poll(url, WAITER.readToken, [['alerts', 1, epoch]], { wait: '0' })).status).toBe(200);
  });
});

describe('realtime polls during shutdown', () => {
  const backend = useBackend('pglite');

  it('answers a poll that arrives during shutdown 503 unavailable with Retry-After: 1', async () => {
    const collector = await startTestCollector(backend, { projects: [WAITER] });
    const { port } = new URL(collector.url);
    // A connection whose request has begun but not ended its headers: close() neither refuses it
    // (it is not a new connection) nor cuts it (it is not idle), so the request lands mid-shutdown.
    const tcp = connect(Number(port), '127.0.0.1');
    cleanups.push(() => tcp.destroy());
    await new Promise<void>((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
    let raw = '';
    tcp.on('data', (chunk) => (raw += chunk.toString()));
    const ended = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
    tcp.write(`GET /v1/realtime/poll?channel=alerts&since=&epoch=&wait=0 HTTP/1.1\r\nHost: localhost\r\nOrigin: ${ORIGIN}\r\n`);
    // A socket closed with 1001 says that shutdown has begun.
    const witness = track(await readySocket(collector.url, WAITER.readToken));
    const closing = collector.close();
    expect((await witness.closed).code).toBe(1001);
    tcp.write(`Authorization: Bearer ${WAITER.readToken}\r\n\r\n`);
    // Answered with `Connection: close`, so the answer ends with the connection.
    await ended;
    await closing;
    const [head = '', text = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('\r\nretry-after: 1\r\n');
    expect(head.toLowerCase()).toContain(`access-control-allow-origin: ${ORIGIN}`);
    expect(JSON.parse(text)).toEqual(errorBody('unavailable'));
  });
});
