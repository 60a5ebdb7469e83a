import { describe, expect, it } from 'vitest';
import {
  createEventWriter,
  isEventError,
  validateEvent,
  type EventRow,
  type Queryable,
} from '../index';
import { BACKENDS, eventRow, useBackend, useMigratedDatabase } from './helpers';

const row = (messageId: string) => eventRow({ messageId });

/** A fake database that stores keys in a Set and counts statements, like ON CONFLICT DO NOTHING. */
function fakeDb(options: { delayMs?: number; failOnce?: string } = {}) {
  const stored = new Set<string>();
  const statements: number[] = [];
  const inFlight = { now: 0, max: 0 };
  let failed = false;
  const db: Queryable = {
    async query(_sql, params) {
      // The writer's parameters: each request's project id and receipt time, then the rows as one JSON array.
      const [projects, , json] = params as [string[], string[], string];
      const records = JSON.parse(json) as Array<{ j: number; m: string }>;
      const ids = records.map((record) => record.m);
      statements.push(ids.length);
      inFlight.max = Math.max(inFlight.max, ++inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
      inFlight.now--;
      if (options.failOnce && !failed && ids.includes(options.failOnce)) {
        failed = true;
        throw Object.assign(new Error('invalid input'), { code: '22P02' });
      }
      const rows = [];
      for (const record of records) {
        const project = projects[record.j - 1]!;
        const key = `${project}/${record.m}`;
        if (stored.has(key)) continue;
        stored.add(key);
        rows.push({ project_id: project, message_id: record.m });
      }
      return { rows } as never;
    },
    async exec() {},
  };
  return { db, stored, statements, inFlight };
}

describe('createEventWriter', () => {
  it('groups requests that arrive while a statement runs into one statement', async () => {
    const { db, statements } = fakeDb();
    const writer = createEventWriter(db);
    const results = await Promise.all([
      writer.write('p', 'now', [row('1'), row('2')]),
      writer.write('p', 'now', [row('3')]),
      writer.write('p', 'now', [row('4'), row('5')]),
      writer.write('q', 'now', [row('1')]),
    ]);
    // The first goes alone; the three that queued behind it share one INSERT.
    expect(statements).toEqual([2, 4]);
    expect(results).toEqual([
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 0 },
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 0 },
    ]);
  });

  it('counts a messageId repeated across grouped requests once, for the first', async () => {
    const { db } = fakeDb();
    const writer = createEventWriter(db);
    const first = writer.write('p', 'now', [row('0')]);
    const results = await Promise.all([first, writer.write('p', 'now', [row('x'), row('x')]), writer.write('p', 'now', [row('x')])]);
    expect(results.slice(1)).toEqual([
      { accepted: 1, duplicates: 1 },
      { accepted: 0, duplicates: 1 },
    ]);
  });

  it('respects maxRows and concurrency', async () => {
    const { db, statements, inFlight } = fakeDb();
    const writer = createEventWriter(db, { maxRows: 5, concurrency: 2 });
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => writer.write('p', 'now', [row(id), row(`${id}2`)])));
    // Two requests of 2 rows fit in 5; a third would not. A request larger than maxRows still goes, alone.
    expect(statements).toEqual([2, 2, 4, 4]);
    expect(inFlight.max).toBe(2);
    expect(await writer.write('p', 'now', ['x', 'y', 'z', 'w', 'v', 'u'].map(row))).toEqual({ accepted: 6, duplicates: 0 });
  });

  it('isolates a failing request from the others grouped with it', async () => {
    const { db } = fakeDb({ failOnce: 'poison' });
    const writer = createEventWriter(db);
    const warmup = writer.write('p', 'now', [row('w')]);
    const good = writer.write('p', 'now', [row('g')]);
    const bad = writer.write('p', 'now', [row('poison')]);
    await warmup;
    await expect(good).resolves.toEqual({ accepted: 1, duplicates: 0 });
    // Failed once in the group, then alone it succeeds on retry.
    await expect(bad).resolves.toEqual({ accepted: 1, duplicates: 0 });
  });

  it('drains: resolves once every accepted write is done', async () => {
    const { db, stored } = fakeDb({ delayMs: 20 });
    const writer = createEventWriter(db);
    void writer.write('p', 'now', [row('1')]);
    void writer.write('p', 'now', [row('2')]);
    await writer.drain();
    expect(stored.size).toBe(2);
    await writer.drain();
  });
});

describe.each(BACKENDS)('createEventWriter on %s', (name) => {
  const database = useMigratedDatabase(useBackend(name));

  const ctx = (receivedAt: string) => ({ index: 0, receivedAt, sentAt: null, maxEventBytes: Infinity });
  const validRow = (raw: Record<string, unknown>, receivedAt = '2026-03-04T05:06:07.890Z'): EventRow => {
    const result = validateEvent(raw, ctx(receivedAt));
    if (isEventError(result)) throw new Error(result.message);
    return result;
  };
  const stored = async (projectId: string) =>
    (
      await database().query<Record<string, unknown>>(
        `SELECT message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, session_id,
           to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
           to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS sa,
           to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ra,
           properties::text AS properties, traits::text AS traits, context::text AS context
         FROM events WHERE project_id = $1 ORDER BY seq`,
        [projectId],
      )
    ).rows;

  // Characters a concatenated JSON text could get wrong: quotes, backslashes (also
  // before a "u"), control characters, line and paragraph separators, non-ASCII,
  // astral characters (emoji, surrogate pairs in JavaScript), and JSON-looking text.
  const ODD = [
    'say "hi"',
    'C:\\path\\to\\u0000file',
    '\\',
    '\\"',
    'tab\there\nnewline\r\u0001\u001f\u007f',
    'line\u2028para\u2029',
    'é ü ß 中文 עברית',
    '😀👩‍👩‍👧 🏳️‍🌈',
    '{"not":"json"}',
    "'; DROP TABLE events; --",
    '</script><!--',
    '',
  ];

  it('stores odd characters in every text and JSON column exactly as sent', async () => {
    const writer = createEventWriter(database());
    const rows = ODD.map((text, i) =>
      validRow({
        type: i % 2 === 0 ? 'track' : 'page',
        event: `E ${text}`,
        name: `N ${text}`,
        messageId: `m${i} ${text}`,
        userId: `u ${text}`,
        anonymousId: `a ${text}`,
        timestamp: '2026-01-02T03:04:05.678+01:00',
        sentAt: '2026-01-02T03:04:06Z',
        properties: { [text]: text, nested: { list: [text, 1, -0.5, 1e21, null, true, {}] } },
        context: { sessionId: `s ${text}`, page: { title: text } },
      }),
    );
    rows.push(validRow({ type: 'group', messageId: 'g', userId: 'u', groupId: 'g "1" \\', traits: { name: '😀 "x"' } }));
    rows.push(validRow({ type: 'alias', messageId: 'al', userId: 'u', previousId: 'p \\u00e9 ü' }));
    expect(await writer.write('odd', '2026-03-04T05:06:07.890Z', rows)).toEqual({ accepted: rows.length, duplicates: 0 });

    const back = await stored('odd');
    expect(back).toHaveLength(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const got = back[i]!;
      expect(got).toMatchObject({
        message_id: row.messageId,
        type: row.type,
        event: row.event,
        name: row.name,
        user_id: row.userId,
        anonymous_id: row.anonymousId,
        group_id: row.groupId,
        previous_id: row.previousId,
        session_id: row.sessionId,
        ts: row.timestamp,
        sa: row.sentAt,
        ra: '2026-03-04T05:06:07.890Z',
      });
      for (const column of ['properties', 'traits', 'context'] as const) {
        expect(JSON.parse(got[column] as string), `${column} of row ${i}`).toEqual(JSON.parse(row[column]));
      }
    }
    // A second write of the same rows stores nothing.
    expect(await writer.write('odd', '2026-03-04T05:06:08.000Z', rows)).toEqual({ accepted: 0, duplicates: rows.length });
    expect(await stored('odd')).toHaveLength(rows.length);
  });

  it('stores lone surrogates in ids as U+FFFD and still counts the event as new', async () => {
    const writer = createEventWriter(database());
    const row = validRow({ type: 'track', event: 'E\ud800', messageId: 'm\udc00', anonymousId: 'a\ud83d' });
    expect(row.messageId).toBe('m\ufffd');
    expect(await writer.write('lone', '2026-03-04T05:06:07.890Z', [row])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await stored('lone')).toMatchObject([{ message_id: 'm\ufffd', event: 'E\ufffd', anonymous_id: 'a\ufffd' }]);
  });

  it('keeps the first of a messageId repeated within a group, and each request its own project and receipt time', async () => {
    const writer = createEventWriter(database());
    const event = (messageId: string, v: number) => validRow({ type: 'track', event: 'E', anonymousId: 'a', messageId, properties: { v } });
    // The first write runs alone; the next three queue behind it and share one statement.
    const results = await Promise.all([
      writer.write('dupA', '2026-03-04T00:00:00.000Z', [event('w', 0)]),
      writer.write('dupA', '2026-03-04T00:00:01.000Z', [event('x', 1), event('x', 2), event('y', 1)]),
      writer.write('dupA', '2026-03-04T00:00:02.000Z', [event('y', 2), event('z', 2)]),
      writer.write('dupB', '2026-03-04T00:00:03.000Z', [event('x', 3)]),
    ]);
    expect(results).toEqual([
      { accepted: 1, duplicates: 0 },
      { accepted: 2, duplicates: 1 },
      { accepted: 1, duplicates: 1 },
      { accepted: 1, duplicates: 0 },
    ]);
    const a = await stored('dupA');
    expect(a.map((r) => [r['message_id'], JSON.parse(r['properties'] as string).v, r['ra']])).toEqual([
      ['w', 0, '2026-03-04T00:00:00.000Z'],
      ['x', 1, '2026-03-04T00:00:01.000Z'],
      ['y', 1, '2026-03-04T00:00:01.000Z'],
      ['z', 2, '2026-03-04T00:00:02.000Z'],
    ]);
    expect((await stored('dupB')).map((r) => [r['message_id'], r['ra']])).toEqual([['x', '2026-03-04T00:00:03.000Z']]);
  });

  it('stores each event once when concurrent requests share messageIds', async () => {
    // Small groups and two statements in flight (PGlite runs them one after the other).
    const writer = createEventWriter(database(), { maxRows: 60, concurrency: 2 });
    const ids = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const requests = Array.from({ length: 12 }, (_, r) => {
      // Overlapping windows, in both orders, so statements race for the same keys.
      const slice = ids.slice((r * 7) % 60, ((r * 7) % 60) + 40);
      return (r % 2 === 0 ? slice : slice.reverse()).map((messageId) => validRow({ type: 'track', event: 'E', anonymousId: 'a', messageId }));
    });
    const results = await Promise.all(requests.map((rows, r) => writer.write('conc', `2026-03-04T00:00:${String(r).padStart(2, '0')}.000Z`, rows)));
    const distinct = new Set(requests.flat().map((row) => row.messageId));
    expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(distinct.size);
    results.forEach((r, i) => expect(r.accepted + r.duplicates).toBe(requests[i]!.length));
    const back = await stored('conc');
    expect(back).toHaveLength(distinct.size);
    expect(new Set(back.map((r) => r['message_id'])).size).toBe(distinct.size);
  });
});
