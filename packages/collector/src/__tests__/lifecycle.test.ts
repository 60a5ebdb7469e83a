import { describe, expect, it } from 'vitest';
import { BACKENDS, post, startTestCollector, trackEvent, useBackend } from './helpers';

describe.each(BACKENDS)('lifecycle on %s', (name) => {
  const backend = useBackend(name);
  const project = { id: 'life', writeKey: 'wk-life', readToken: 'rt-life' };

  it('applies migrations once and keeps data across restarts', async () => {
    const first = await startTestCollector(backend, { projects: [project] });
    const event = trackEvent();
    await post(`${first.url}/v1/batch`, { batch: [event] }, { writeKey: project.writeKey });
    const before = await first.database.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    await first.close();

    const second = await startTestCollector(backend, { projects: [project] });
    try {
      const after = await second.database.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(after.rows).toEqual(before.rows);
      expect(after.rows.map((r) => r.version)).toContain('0001');
      // The old event is still there, so resending it is a duplicate.
      const resent = await post(`${second.url}/v1/batch`, { batch: [event] }, { writeKey: project.writeKey });
      expect(resent.body).toEqual({ accepted: 0, duplicates: 1 });
    } finally {
      await second.close();
    }
  });

  it('loses no accepted event on shutdown', async () => {
    const collector = await startTestCollector(backend, { projects: [project] });
    const url = collector.url;
    const batches = Array.from({ length: 24 }, () => Array.from({ length: 100 }, () => trackEvent({ event: 'Shutdown' })));
    const requests = batches.map((batch) =>
      post(`${url}/v1/batch`, { batch }, { writeKey: project.writeKey }).then(
        (answer) => ({ batch, answer }),
        () => ({ batch, answer: null }),
      ),
    );
    // Close once the first answer is out: the rest are being read, validated or inserted.
    await Promise.race(requests);
    await collector.close();
    const results = await Promise.all(requests);
    const accepted = results.filter((r) => r.answer?.status === 200);
    expect(accepted.length).toBeGreaterThan(0);

    const reopened = await startTestCollector(backend, { projects: [project] });
    try {
      const ids = accepted.flatMap((r) => r.batch.map((e) => e['messageId'] as string));
      const { rows } = await reopened.database.query<{ n: number | string }>(
        'SELECT count(*) AS n FROM events WHERE project_id = $1 AND message_id = ANY($2::text[])',
        [project.id, ids],
      );
      expect(Number(rows[0]!.n)).toBe(ids.length);
    } finally {
      await reopened.close();
    }
  });

  it('answers 429 with Retry-After once a write key spends its burst', async () => {
    const collector = await startTestCollector(backend, { projects: [project], rateLimit: { requestsPerSecond: 0.01, burst: 2 } });
    try {
      const send = () => post(`${collector.url}/v1/batch`, { batch: [trackEvent()] }, { writeKey: project.writeKey, headers: { origin: 'https://a.example' } });
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      const limited = await send();
      expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
      // One token per 100 s: the wait is whole seconds, rounded up.
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(90);
      // Browsers may read Retry-After only when it is exposed.
      expect(limited.headers.get('access-control-allow-origin')).toBe('https://a.example');
      expect(limited.headers.get('access-control-expose-headers')).toMatch(/retry-after/i);
    } finally {
      await collector.close();
    }
  });
});
