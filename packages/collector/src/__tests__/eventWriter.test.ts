import { describe, expect, it } from 'vitest';
import { createEventWriter, type EventRow, type Queryable } from '../index';

function row(messageId: string): EventRow {
  return {
    messageId,
    type: 'track',
    event: 'E',
    name: null,
    userId: null,
    anonymousId: 'a',
    groupId: null,
    previousId: null,
    sessionId: null,
    timestamp: '2026-01-01T00:00:00.000Z',
    sentAt: null,
    properties: '{}',
    traits: '{}',
    context: '{}',
  };
}

/** A fake database that stores keys in a Set and counts statements, like ON CONFLICT DO NOTHING. */
function fakeDb(options: { delayMs?: number; failOnce?: string } = {}) {
  const stored = new Set<string>();
  const statements: number[] = [];
  const inFlight = { now: 0, max: 0 };
  let failed = false;
  const db: Queryable = {
    async query(_sql, params) {
      const [projects, ids] = params as [string[], string[]];
      statements.push(ids.length);
      inFlight.max = Math.max(inFlight.max, ++inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
      inFlight.now--;
      if (options.failOnce && !failed && ids.includes(options.failOnce)) {
        failed = true;
        throw Object.assign(new Error('invalid input'), { code: '22P02' });
      }
      const rows = [];
      for (let i = 0; i < ids.length; i++) {
        const key = `${projects[i]}/${ids[i]}`;
        if (stored.has(key)) continue;
        stored.add(key);
        rows.push({ project_id: projects[i], message_id: ids[i] });
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
