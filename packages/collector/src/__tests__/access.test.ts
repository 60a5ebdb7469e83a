import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector, ProjectCredentials } from '../index';
import { BACKENDS, basic, post, recent, startTestCollector, trackEvent, useBackend } from './helpers';

describe.each(BACKENDS)('keys, tokens, tenants and CORS on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let url: string;
  let alpha: ProjectCredentials;
  let beta: ProjectCredentials;

  beforeAll(async () => {
    collector = await startTestCollector(backend, {
      projects: [
        { id: 'alpha', writeKey: 'wk-alpha', readToken: 'rt-alpha' },
        { id: 'beta', name: 'Beta', writeKey: 'wk-beta', readToken: 'rt-beta' },
      ],
    });
    url = collector.url;
    [alpha, beta] = collector.projects as [ProjectCredentials, ProjectCredentials];
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('answers 401 to a missing, unknown or read-only key', async () => {
    const event = { batch: [trackEvent()] };
    expect(await post(`${url}/v1/batch`, event)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await post(`${url}/v1/batch`, event, { writeKey: 'nope' })).toMatchObject({ status: 401 });
    expect(await post(`${url}/v1/batch`, { ...event, writeKey: 'nope' })).toMatchObject({ status: 401 });
    const withToken = await post(`${url}/v1/batch`, event, { headers: { authorization: `Bearer ${alpha.readToken}` } });
    expect(withToken).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect((await recent(url, alpha.readToken)).body.events).toHaveLength(0);
  });

  it('reads with a read token only; a write key can never read', async () => {
    await post(`${url}/v1/batch`, { batch: [trackEvent(), trackEvent(), trackEvent()] }, { writeKey: alpha.writeKey });
    expect((await recent(url, alpha.readToken, 2)).body.events).toHaveLength(2);

    const asWriteKey = await recent(url, alpha.writeKey);
    expect(asWriteKey).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const basicAuth = await fetch(`${url}/v1/events/recent`, { headers: { authorization: basic(alpha.writeKey) } });
    expect(basicAuth.status).toBe(403);
    expect((await recent(url, 'unknown-token')).status).toBe(401);
    expect((await fetch(`${url}/v1/events/recent`)).status).toBe(401);
    expect((await recent(url, alpha.readToken, 0)).body).toMatchObject({ error: { code: 'invalid_query' } });
  });

  it('keeps projects apart, with dedupe per project', async () => {
    const shared = trackEvent({ event: 'Shared Id' });
    const onlyBeta = trackEvent({ event: 'Beta Only' });
    expect((await post(`${url}/v1/batch`, { batch: [shared] }, { writeKey: alpha.writeKey })).body).toEqual({ accepted: 1, duplicates: 0 });
    // The same messageId in another project is another event.
    expect((await post(`${url}/v1/batch`, { batch: [shared, onlyBeta] }, { writeKey: beta.writeKey })).body).toEqual({ accepted: 2, duplicates: 0 });

    const alphaEvents = (await recent(url, alpha.readToken, 1000)).body.events as Array<{ event: string }>;
    const betaEvents = (await recent(url, beta.readToken, 1000)).body.events as Array<{ event: string }>;
    expect(alphaEvents.map((e) => e.event)).not.toContain('Beta Only');
    expect(betaEvents.map((e) => e.event).sort()).toEqual(['Beta Only', 'Shared Id']);
  });

  it('creates projects idempotently and refuses a key owned by another project', async () => {
    const again = await collector.createProject({ id: 'alpha', writeKey: 'wk-alpha', readToken: 'rt-alpha' });
    expect(again).toEqual(alpha);
    await expect(collector.createProject({ id: 'gamma', writeKey: 'wk-alpha', readToken: 'rt-gamma' })).rejects.toThrow(/another project/);
  });

  it('answers CORS preflights with the headers clients send', async () => {
    const response = await fetch(`${url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,content-encoding,anonymousid,sentat,x-retry-count,rsa-request-id',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const header of ['authorization', 'content-type', 'content-encoding', 'anonymousid', 'sentat', 'x-retry-count', 'rsa-request-id']) {
      expect(allowed).toContain(header);
    }
  });

  it('sends Access-Control-Allow-Origin on every POST answer, errors included', async () => {
    const origin = { origin: 'https://app.example' };
    const answers = [
      await post(`${url}/v1/batch`, { batch: [trackEvent()] }, { writeKey: alpha.writeKey, headers: origin }),
      await post(`${url}/v1/batch`, { batch: [trackEvent()] }, { writeKey: 'bad', headers: origin }),
      await post(`${url}/v1/batch`, null, { writeKey: alpha.writeKey, headers: origin, raw: '{' }),
      await post(`${url}/v1/batch`, { batch: [{}] }, { writeKey: alpha.writeKey, headers: origin }),
      await post(`${url}/v1/nowhere`, {}, { headers: origin }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 400, 400, 404]);
    for (const answer of answers) expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answers[4]!.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('reports health with the database', async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: name });
  });
});
