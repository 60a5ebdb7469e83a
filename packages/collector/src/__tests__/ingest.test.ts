import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector, ProjectCredentials } from '../index';
import { BACKENDS, post, recent, startTestCollector, trackEvent, useBackend } from './helpers';

describe.each(BACKENDS)('ingest on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let project: ProjectCredentials;
  let url: string;

  beforeAll(async () => {
    collector = await startTestCollector(backend);
    url = collector.url;
  });
  afterAll(async () => {
    await collector?.close();
  });
  // Each test gets its own project, so counts never leak between tests.
  const newProject = async () => (project = await collector.createProject());

  it('stores a batch and lists it newest first with every field', async () => {
    await newProject();
    const first = trackEvent({
      userId: 'user-1',
      timestamp: '2026-01-02T03:04:05.678Z',
      context: { sessionId: 'sess-1', page: { path: '/a' } },
    });
    const second = { type: 'page', name: 'Home', messageId: randomUUID(), anonymousId: 'anon-2', properties: { path: '/' } };
    const answer = await post(`${url}/v1/batch`, { batch: [first, second], sentAt: '2026-01-02T03:04:06Z' }, { writeKey: project.writeKey });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ accepted: 2, duplicates: 0 });

    const listed = await recent(url, project.readToken);
    expect(listed.status).toBe(200);
    expect(listed.body.events.map((e: { messageId: string }) => e.messageId)).toEqual([second.messageId, first.messageId]);
    expect(listed.body.events[1]).toMatchObject({
      messageId: first.messageId,
      type: 'track',
      event: 'Button Clicked',
      userId: 'user-1',
      anonymousId: 'anon-1',
      sessionId: 'sess-1',
      timestamp: '2026-01-02T03:04:05.678Z',
      sentAt: '2026-01-02T03:04:06.000Z',
      properties: { plan: 'pro', price: 9.5 },
      context: { sessionId: 'sess-1', page: { path: '/a' } },
    });
    expect(Date.parse(listed.body.events[1].receivedAt)).toBeGreaterThan(Date.now() - 60_000);
    // A page without a timestamp takes the time it was received.
    expect(listed.body.events[0]).toMatchObject({ type: 'page', name: 'Home', timestamp: listed.body.events[0].receivedAt });
  });

  it('stores a resent batch once and counts duplicates, also within one batch', async () => {
    await newProject();
    const events = [trackEvent(), trackEvent(), trackEvent()];
    const body = { batch: events };
    expect((await post(`${url}/v1/batch`, body, { writeKey: project.writeKey })).body).toEqual({ accepted: 3, duplicates: 0 });
    expect((await post(`${url}/v1/batch`, body, { writeKey: project.writeKey })).body).toEqual({ accepted: 0, duplicates: 3 });

    const repeated = trackEvent();
    const inside = await post(`${url}/v1/batch`, { batch: [repeated, repeated, { ...repeated, event: 'Other' }, events[0]] }, { writeKey: project.writeKey });
    expect(inside.body).toEqual({ accepted: 1, duplicates: 3 });
    expect((await recent(url, project.readToken)).body.events).toHaveLength(4);
  });

  it('reads text/plain, no content type and unusual types as JSON', async () => {
    await newProject();
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      const answer = await post(`${url}/v1/batch`, null, {
        writeKey: project.writeKey,
        headers: { 'content-type': type },
        raw: JSON.stringify({ batch: [trackEvent()] }),
      });
      expect(answer.status, type).toBe(200);
    }
    const blob = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${project.writeKey}:`).toString('base64')}` },
      // A Uint8Array body makes fetch send no Content-Type at all.
      body: new TextEncoder().encode(JSON.stringify({ batch: [trackEvent()] })),
    });
    expect(blob.status).toBe(200);
    expect((await recent(url, project.readToken)).body.events).toHaveLength(4);
  });

  it('inflates gzip bodies whatever the content type says', async () => {
    await newProject();
    const raw = gzipSync(JSON.stringify({ batch: [trackEvent(), trackEvent()] }));
    const answer = await post(`${url}/v1/batch`, null, {
      writeKey: project.writeKey,
      headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
      raw,
    });
    expect(answer).toMatchObject({ status: 200, body: { accepted: 2, duplicates: 0 } });
    const corrupt = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, headers: { 'content-encoding': 'gzip' }, raw: 'not gzip' });
    expect(corrupt.status).toBe(400);
    const unknown = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, headers: { 'content-encoding': 'br' }, raw: '{}' });
    expect(unknown).toMatchObject({ status: 415, body: { error: { code: 'unsupported_encoding' } } });
  });

  it('takes the writeKey from the body, and from the query on the beacon path', async () => {
    await newProject();
    const inBody = await post(`${url}/v1/batch`, { batch: [trackEvent()], writeKey: project.writeKey }, { headers: { 'content-type': 'text/plain' } });
    expect(inBody).toMatchObject({ status: 200, body: { accepted: 1 } });
    const beacon = await post(`${url}/beacon/v1/batch?writeKey=${encodeURIComponent(project.writeKey)}`, { batch: [trackEvent()] }, {
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    });
    expect(beacon).toMatchObject({ status: 200, body: { accepted: 1 } });
    const segmentBrowser = await post(`${url}/v1/b`, { batch: [trackEvent()], writeKey: project.writeKey });
    expect(segmentBrowser).toMatchObject({ status: 200, body: { accepted: 1 } });
    expect((await recent(url, project.readToken)).body.events).toHaveLength(3);
  });

  it('serves the single-event endpoints and their short forms', async () => {
    await newProject();
    const sent: Array<[string, Record<string, unknown>]> = [
      ['/v1/track', { event: 'A' }],
      ['/v1/t', { event: 'B' }],
      ['/v1/page', { name: 'Home' }],
      ['/v1/p', {}],
      ['/v1/screen', { name: 'Main' }],
      ['/v1/s', {}],
      ['/v1/identify', { traits: { email: 'a@b.c' } }],
      // RudderStack sends identify traits only in context.traits.
      ['/v1/i', { context: { traits: { plan: 'team' } } }],
      ['/v1/group', { groupId: 'g1' }],
      ['/v1/g', { groupId: 'g2' }],
      ['/v1/alias', { previousId: 'old', userId: 'new' }],
      ['/v1/a', { previousId: 'old2', userId: 'new2' }],
    ];
    for (const [path, fields] of sent) {
      // The path decides the type, whatever the body says.
      const answer = await post(`${url}${path}`, { type: 'track', anonymousId: 'x', messageId: path, ...fields }, { writeKey: project.writeKey });
      expect(answer.status, path).toBe(200);
    }
    const events = (await recent(url, project.readToken)).body.events as Array<Record<string, unknown>>;
    const byId = new Map(events.map((e) => [e['messageId'], e]));
    expect(byId.get('/v1/t')).toMatchObject({ type: 'track', event: 'B' });
    expect(byId.get('/v1/p')).toMatchObject({ type: 'page', name: null });
    expect(byId.get('/v1/s')).toMatchObject({ type: 'screen' });
    expect(byId.get('/v1/identify')).toMatchObject({ type: 'identify', traits: { email: 'a@b.c' } });
    expect(byId.get('/v1/i')).toMatchObject({ type: 'identify', traits: { plan: 'team' } });
    expect(byId.get('/v1/g')).toMatchObject({ type: 'group', groupId: 'g2' });
    expect(byId.get('/v1/a')).toMatchObject({ type: 'alias', previousId: 'old2', userId: 'new2' });
  });

  it('answers 400 with per-event errors and keeps the valid events', async () => {
    await newProject();
    const good = [trackEvent(), trackEvent()];
    const batch = [
      good[0],
      { type: 'track', messageId: 'bad-1', anonymousId: 'a' },
      'not an object',
      good[1],
      { type: 'nope', messageId: 'bad-3', anonymousId: 'a' },
    ];
    const answer = await post(`${url}/v1/batch`, { batch }, { writeKey: project.writeKey });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      accepted: 2,
      duplicates: 0,
      error: {
        code: 'invalid_events',
        details: [
          { index: 1, messageId: 'bad-1', code: 'missing_event' },
          { index: 2, messageId: null, code: 'invalid_event' },
          { index: 4, messageId: 'bad-3', code: 'invalid_type' },
        ],
      },
    });
    expect(typeof answer.body.error.message).toBe('string');
    const ids = (await recent(url, project.readToken)).body.events.map((e: { messageId: string }) => e.messageId);
    expect(ids.sort()).toEqual(good.map((e) => e['messageId']).sort());
  });

  it('refuses wrongly typed fields event by event', async () => {
    await newProject();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messageId: '' }, 'invalid_message_id'],
      [{ messageId: 'x'.repeat(129) }, 'invalid_message_id'],
      [{ messageId: 42 }, 'invalid_message_id'],
      [{ anonymousId: undefined, userId: undefined }, 'missing_identity'],
      [{ anonymousId: { id: 1 } }, 'invalid_identity'],
      [{ event: 42 }, 'missing_event'],
      [{ timestamp: 'yesterday' }, 'invalid_timestamp'],
      [{ timestamp: '2026-01-01T00:00:00' }, 'invalid_timestamp'],
      [{ timestamp: 1767225600000 }, 'invalid_timestamp'],
      [{ sentAt: 'soon' }, 'invalid_timestamp'],
      [{ properties: [1, 2] }, 'invalid_field'],
      [{ context: 'ctx' }, 'invalid_field'],
      [{ traits: 3 }, 'invalid_field'],
      [{ properties: { text: 'nul\u0000byte' } }, 'invalid_string'],
      [{ event: 'nul\u0000' }, 'invalid_string'],
      [{ type: 'group', groupId: undefined }, 'invalid_field'],
      [{ type: 'alias', previousId: undefined }, 'invalid_field'],
      [{ type: 'page', name: 5 }, 'invalid_field'],
    ];
    const batch = cases.map(([fields]) => trackEvent(fields));
    const answer = await post(`${url}/v1/batch`, { batch: [...batch, trackEvent({ userId: 7, anonymousId: undefined })] }, { writeKey: project.writeKey });
    expect(answer.status).toBe(400);
    expect(answer.body.accepted).toBe(1);
    expect(answer.body.error.details.map((d: { code: string }) => d.code)).toEqual(cases.map(([, code]) => code));
    // A numeric userId is kept as text.
    expect((await recent(url, project.readToken)).body.events[0].userId).toBe('7');
  });

  it('assigns a messageId when the event has none', async () => {
    await newProject();
    const { messageId: _omit, ...event } = trackEvent();
    expect((await post(`${url}/v1/track`, event, { writeKey: project.writeKey })).body).toEqual({ accepted: 1, duplicates: 0 });
    const [stored] = (await recent(url, project.readToken)).body.events;
    expect(stored.messageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 400 to malformed JSON and bodies of the wrong shape, storing nothing', async () => {
    await newProject();
    const malformed = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, raw: `{"batch":[${JSON.stringify(trackEvent())}` });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'invalid_json', details: null } } });
    for (const body of [[], { batch: {} }, { events: [] }, 'text']) {
      const answer = await post(`${url}/v1/batch`, body, { writeKey: project.writeKey });
      expect(answer, JSON.stringify(body)).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
    }
    const empty = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, raw: '' });
    expect(empty.status).toBe(400);
    expect((await recent(url, project.readToken)).body.events).toHaveLength(0);
  });

  it('stores what concurrent batches sent, byte for byte, while their memory is reused', async () => {
    // Bodies and COPY data of 256-512 KiB live in pooled buffers: one given back too early would
    // show here as another batch's bytes in a stored event. About 8 KB an event, 320 KB a body.
    await newProject();
    const batches = Array.from({ length: 16 }, (_, b) =>
      Array.from({ length: 40 }, (_, i) =>
        trackEvent({ event: `E ${b}.${i}`, properties: { b, i, text: `${'é€😀abc'.repeat(650 + ((b * 7 + i) % 23))}|${b}.${i}|${'x'.repeat(b * 50)}` } }),
      ),
    );
    expect(Buffer.byteLength(JSON.stringify({ batch: batches[0] }))).toBeGreaterThan(256 * 1024);
    const answers = await Promise.all(batches.map((batch) => post(`${url}/v1/batch`, { batch }, { writeKey: project.writeKey })));
    expect(answers.map((a) => a.status)).toEqual(batches.map(() => 200));
    const stored = (await recent(url, project.readToken, 1000)).body.events as Array<{ messageId: string; event: string; properties: unknown }>;
    const byId = new Map(stored.map((e) => [e.messageId, e]));
    expect(byId.size).toBe(16 * 40);
    for (const event of batches.flat()) {
      expect(byId.get(event['messageId'] as string)).toMatchObject({ event: event['event'], properties: event['properties'] });
    }
  });

  it('refuses an event over 32 KB alone and a body over 500 KB with 413', async () => {
    await newProject();
    const big = trackEvent({ properties: { blob: 'x'.repeat(33 * 1024) } });
    // Multi-byte characters count in UTF-8 bytes: 11,000 x 3 bytes > 32 KB.
    const wide = trackEvent({ properties: { blob: '€'.repeat(11_000) } });
    const small = trackEvent();
    const answer = await post(`${url}/v1/batch`, { batch: [small, big, wide] }, { writeKey: project.writeKey });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ accepted: 1, error: { details: [{ index: 1, code: 'event_too_large' }, { index: 2, code: 'event_too_large' }] } });

    const huge = { batch: Array.from({ length: 20 }, () => trackEvent({ properties: { blob: 'y'.repeat(30 * 1024) } })) };
    const tooLarge = await post(`${url}/v1/batch`, huge, { writeKey: project.writeKey });
    expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    // A small gzip body that inflates past the limit is refused too.
    const bomb = gzipSync(JSON.stringify({ batch: [trackEvent({ properties: { blob: 'z'.repeat(600 * 1024) } })] }));
    expect(bomb.length).toBeLessThan(10 * 1024);
    const inflated = await post(`${url}/v1/batch`, null, { writeKey: project.writeKey, headers: { 'content-encoding': 'gzip' }, raw: bomb });
    expect(inflated).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect((await recent(url, project.readToken)).body.events).toHaveLength(1);
  });
});
