import { describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, copyRows } from '../copyText';
import { eventRow } from './helpers';

const row = eventRow;

const fields = (line: string) => line.split('\t');
// The COPY data as text (it is UTF-8).
const copyText = (...args: Parameters<typeof copyRows>) => {
  const { data, rows } = copyRows(...args);
  return { text: data.toString('utf8'), rows };
};

describe('copyRows', () => {
  it('writes one line per row, a field per column, \\N for NULL', () => {
    const { text, rows } = copyText('p', '2026-01-02T00:00:00.000Z', [row()]);
    expect(rows).toHaveLength(1);
    expect(text.endsWith('\n')).toBe(true);
    const line = fields(text.slice(0, -1));
    expect(line).toHaveLength(EVENT_COLUMNS.length);
    expect(Object.fromEntries(EVENT_COLUMNS.map((column, i) => [column, line[i]]))).toEqual({
      project_id: 'p',
      message_id: 'm',
      type: 'track',
      event: 'E',
      name: '\\N',
      user_id: '\\N',
      anonymous_id: 'a',
      group_id: '\\N',
      previous_id: '\\N',
      session_id: '\\N',
      timestamp: '2026-01-01T00:00:00.000Z',
      sent_at: '\\N',
      received_at: '2026-01-02T00:00:00.000Z',
      properties: '{}',
      traits: '{}',
      context: '{}',
    });
  });

  it("escapes COPY's special characters in text and JSON columns", () => {
    const { text } = copyText('p\\q', 'now', [
      row({ messageId: 'a\tb', event: 'line\nbreak\r', userId: '\\N', properties: '{"path":"C:\\\\x","q":"\\""}' }),
    ]);
    const line = fields(text.slice(0, -1));
    expect(line[0]).toBe('p\\\\q');
    expect(line[1]).toBe('a\\tb');
    expect(line[3]).toBe('line\\nbreak\\r');
    // A literal backslash-N is text, not NULL.
    expect(line[5]).toBe('\\\\N');
    expect(line[13]).toBe('{"path":"C:\\\\\\\\x","q":"\\\\""}');
  });

  it('keeps the first of a messageId repeated within the request', () => {
    const { text, rows } = copyText('p', 'now', [row({ messageId: 'x', event: '1' }), row({ messageId: 'x', event: '2' }), row({ messageId: 'y' })]);
    expect(rows.map((r) => [r.messageId, r.event])).toEqual([
      ['x', '1'],
      ['y', 'E'],
    ]);
    expect(text.split('\n').filter(Boolean).map((line) => fields(line).slice(1, 4))).toEqual([
      ['x', 'track', '1'],
      ['y', 'track', 'E'],
    ]);
  });

  it('writes UTF-8 and grows past its first estimate; a lone surrogate becomes U+FFFD', () => {
    const big = `{"t":"${'é€😀'.repeat(400)}"}`;
    const { text } = copyText('p', 'now', [row({ messageId: 'a', properties: big }), row({ messageId: 'b', userId: 'x\ud800y' })]);
    const lines = text.split('\n');
    expect(fields(lines[0]!)[13]).toBe(big);
    expect(fields(lines[1]!)[5]).toBe('x\ufffdy');
  });
});
