import { describe, expect, it } from 'vitest';
import { COPY_HEADER, COPY_TRAILER, EVENT_COLUMNS, copyRows } from '../copyRows';
import { eventRow } from './helpers';

const row = eventRow;
const TIMESTAMPS = new Set(['timestamp', 'sent_at', 'received_at']);

/** Read binary COPY tuples back: per row, each column's text (UTF-8), ISO time, or null. */
function readTuples(data: Buffer): Array<Record<string, string | null>> {
  const rows: Array<Record<string, string | null>> = [];
  let at = 0;
  while (at < data.length) {
    expect(data.readInt16BE(at)).toBe(EVENT_COLUMNS.length);
    at += 2;
    const fields: Record<string, string | null> = {};
    for (const column of EVENT_COLUMNS) {
      const length = data.readInt32BE(at);
      at += 4;
      if (length === -1) {
        fields[column] = null;
        continue;
      }
      if (TIMESTAMPS.has(column)) {
        expect(length).toBe(8);
        const micros = data.readBigInt64BE(at);
        fields[column] = new Date(Number(micros / 1000n) + Date.UTC(2000, 0, 1)).toISOString();
      } else fields[column] = data.toString('utf8', at, at + length);
      at += length;
    }
    rows.push(fields);
  }
  expect(at).toBe(data.length);
  return rows;
}

describe('copyRows', () => {
  it('writes one tuple per row, a field per column, -1 for NULL, timestamps as microseconds since 2000', () => {
    const { data, rows } = copyRows('p', '2026-01-02T00:00:00.000Z', [row({ sentAt: '1999-12-31T23:59:59.999Z' })]);
    expect(rows).toHaveLength(1);
    expect(readTuples(data)).toEqual([
      {
        project_id: 'p',
        message_id: 'm',
        type: 'track',
        event: 'E',
        name: null,
        user_id: null,
        anonymous_id: 'a',
        group_id: null,
        previous_id: null,
        session_id: null,
        timestamp: '2026-01-01T00:00:00.000Z',
        sent_at: '1999-12-31T23:59:59.999Z',
        received_at: '2026-01-02T00:00:00.000Z',
        properties: '{}',
        traits: '{}',
        context: '{}',
      },
    ]);
  });

  it('writes text as it is (binary COPY has no escapes) and every timestamp the protocol allows exactly', () => {
    const times = ['0001-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z', '2000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    const { data } = copyRows('p\\q', '2026-01-02T00:00:00.000Z', [
      row({ messageId: 'a\tb', event: 'line\nbreak\r', userId: '\\N', properties: '{"path":"C:\\\\x","q":"\\""}' }),
      ...times.map((timestamp, i) => row({ messageId: `t${i}`, timestamp, sentAt: times[3 - i]! })),
    ]);
    const [first, ...rest] = readTuples(data);
    expect(first).toMatchObject({ project_id: 'p\\q', message_id: 'a\tb', event: 'line\nbreak\r', user_id: '\\N', properties: '{"path":"C:\\\\x","q":"\\""}' });
    expect(rest.map((r) => [r['timestamp'], r['sent_at']])).toEqual(times.map((t, i) => [t, times[3 - i]]));
    // The header and trailer that go around a group: PostgreSQL's signature, then a field count of -1.
    expect(COPY_HEADER.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(COPY_TRAILER.readInt16BE(0)).toBe(-1);
  });

  it('throws on a timestamp that is not ISO 8601, rather than store another instant', () => {
    expect(() => copyRows('p', 'now', [row()])).toThrow(/ISO 8601/);
    expect(() => copyRows('p', '2026-01-02T00:00:00.000Z', [row({ timestamp: 'yesterday' })])).toThrow(/"yesterday"/);
  });

  it('keeps the first of a messageId repeated within the request', () => {
    const { data, rows } = copyRows('p', '2026-01-02T00:00:00.000Z', [row({ messageId: 'x', event: '1' }), row({ messageId: 'x', event: '2' }), row({ messageId: 'y' })]);
    expect(rows.map((r) => [r.messageId, r.event])).toEqual([
      ['x', '1'],
      ['y', 'E'],
    ]);
    expect(readTuples(data).map((r) => [r['message_id'], r['event']])).toEqual([
      ['x', '1'],
      ['y', 'E'],
    ]);
  });

  it('writes UTF-8 and grows past its first estimate; a lone surrogate becomes U+FFFD', () => {
    const big = `{"t":"${'é€😀'.repeat(400)}"}`;
    const { data } = copyRows('p', '2026-01-02T00:00:00.000Z', [row({ messageId: 'a', properties: big }), row({ messageId: 'b', userId: 'x\ud800y' })]);
    const [a, b] = readTuples(data);
    expect(a!['properties']).toBe(big);
    expect(b!['user_id']).toBe('x\ufffdy');
  });
});
