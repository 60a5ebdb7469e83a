import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventWriter,
  isEventError,
  validateEvent,
  type Collector,
  type EventRow,
  type ProjectCredentials,
  type Queryable,
} from '../index';
import { BACKENDS, copyTuples, countTuples, post, startTestCollector, trackEvent, useBackend, useMigratedDatabase } from './helpers';

const event = (messageId: string, fields: Record<string, unknown> = {}): EventRow => {
  const result = validateEvent(
    { type: 'track', event: 'E', anonymousId: 'a', messageId, ...fields },
    { index: 0, receivedAt: '2026-03-04T00:00:00.000Z', sentAt: null, maxEventBytes: Infinity },
  );
  if (isEventError(result)) throw new Error(result.message);
  return result;
};

/** A database that records COPYs and INSERTs and can refuse the next COPY with a given code. */
function recordingDb() {
  const log: string[] = [];
  let refuse: string | undefined;
  const db: Required<Queryable> = {
    async query(sql) {
      log.push('insert');
      expect(sql).toMatch(/^INSERT INTO events/);
      return { rows: [] };
    },
    async exec() {},
    async copyIn(table, _columns, chunks) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`copy ${table} ${countTuples(Buffer.concat(chunks))}`);
      if (refuse) throw Object.assign(new Error('refused'), { code: refuse });
    },
  };
  return { db, log, refuseWith: (code: string | undefined) => (refuse = code) };
}

const NOW = '2026-03-04T00:00:00.000Z';

describe('createEventWriter with COPY', () => {
  it('COPYs each group once, and counts a messageId repeated in a request as a duplicate', async () => {
    const { db, log } = recordingDb();
    const writer = createEventWriter(db);
    const results = await Promise.all([
      writer.write('p', NOW, [event('1')]),
      writer.write('p', NOW, [event('2'), event('2'), event('3')]),
      writer.write('q', NOW, [event('1')]),
    ]);
    expect(log).toEqual(['copy events 1', 'copy events 3']);
    expect(results).toEqual([
      { accepted: 1, duplicates: 0 },
      { accepted: 2, duplicates: 1 },
      { accepted: 1, duplicates: 0 },
    ]);
  });

  it.each(['23505', '40P01'])('falls back to the deduplicating INSERT when the COPY fails with %s', async (code) => {
    const { db, log, refuseWith } = recordingDb();
    refuseWith(code);
    const writer = createEventWriter(db);
    await writer.write('p', NOW, [event('1')]);
    expect(log).toEqual(['copy events 1', 'insert']);
  });

  it('does not hide other errors behind the fallback', async () => {
    const { db, log, refuseWith } = recordingDb();
    refuseWith('22P02');
    const writer = createEventWriter(db);
    await expect(writer.write('p', NOW, [event('1')])).rejects.toMatchObject({ code: '22P02' });
    expect(log).toEqual(['copy events 1']);
  });
});

describe.each(BACKENDS)('COPY writes on %s', (name) => {
  const database = useMigratedDatabase(useBackend(name));

  const count = async (projectId: string) =>
    (await database().query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [projectId])).rows[0]!.n;

  it('stores the new events of a request that also resends stored ones', async () => {
    const writer = createEventWriter(database());
    expect(await writer.write('resend', NOW, [event('a'), event('b')])).toEqual({ accepted: 2, duplicates: 0 });
    // The COPY meets 'b' and fails whole; the INSERT keeps 'c' and 'd'.
    expect(await writer.write('resend', '2026-03-04T00:00:01.000Z', [event('b'), event('c'), event('d'), event('c')])).toEqual({
      accepted: 2,
      duplicates: 2,
    });
    expect(await count('resend')).toBe(4);
  });

  it('keeps the connection usable after the server refuses a COPY', async () => {
    await expect(database().copyIn!('no_such_table', ['a'], [copyTuples([['x']])])).rejects.toMatchObject({ code: '42P01' });
    await expect(database().copyIn!('events', ['project_id'], [copyTuples([['only one column']])])).rejects.toMatchObject({ code: '23502' });
    // Data that is not binary COPY at all.
    await expect(database().copyIn!('events', ['project_id'], [Buffer.from('only one column\n')])).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    expect((await database().query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await count('only one column')).toBe(0);
  });
});

describe.each(BACKENDS)('grouped COPY through the collector on %s', (name) => {
  const backend = useBackend(name);
  let collector: Collector;
  let project: ProjectCredentials;
  beforeAll(async () => {
    collector = await startTestCollector(backend);
    project = await collector.createProject({ id: 'nul' });
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('refuses only the event holding a \\u0000 escape; the valid rest of every concurrent request is stored', async () => {
    const batches = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) => trackEvent(b === 2 && i === 7 ? { properties: { text: 'nul\u0000byte' } } : {})),
    );
    const answers = await Promise.all(batches.map((batch) => post(`${collector.url}/v1/batch`, { batch }, { writeKey: project.writeKey })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 200, 200, 200]);
    expect(answers.map((a) => a.body.accepted)).toEqual([50, 50, 49, 50, 50, 50]);
    expect(answers[2]!.body.error.details).toMatchObject([{ index: 7, code: 'invalid_string' }]);
    const { rows } = await collector.database.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE project_id = 'nul'");
    expect(rows[0]!.n).toBe(299);
  });
});
