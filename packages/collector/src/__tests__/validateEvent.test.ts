import { describe, expect, it } from 'vitest';
import { isEventError, parseTimestamp, validateEvent, type EventRow } from '../index';

const ctx = { index: 0, receivedAt: '2026-05-01T00:00:00.000Z', sentAt: null, maxEventBytes: 32 * 1024 };

describe('parseTimestamp', () => {
  it('normalises ISO 8601 date-times with a zone to UTC', () => {
    expect(parseTimestamp('2026-01-02T03:04:05Z')).toBe('2026-01-02T03:04:05.000Z');
    expect(parseTimestamp('2026-01-02T04:04:05.123+01:00')).toBe('2026-01-02T03:04:05.123Z');
    expect(parseTimestamp('2026-01-02T03:04:05.123456Z')).toBe('2026-01-02T03:04:05.123Z');
  });

  it('keeps an already normalised date-time as is, and sends edge days the long way', () => {
    expect(parseTimestamp('2026-01-02T03:04:05.678Z')).toBe('2026-01-02T03:04:05.678Z');
    expect(parseTimestamp('2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z');
    // Out of range: normalised by Date as before, never passed on as sent.
    expect(parseTimestamp('2026-02-30T00:00:00.000Z')).toBe('2026-03-02T00:00:00.000Z');
    expect(parseTimestamp('2026-01-02T24:00:00.000Z')).toBe('2026-01-03T00:00:00.000Z');
  });

  it('refuses what is not one', () => {
    for (const value of ['2026-01-02', '2026-01-02T03:04:05', 'now', '', 0, null, '2026-13-40T00:00:00Z', '0000-01-01T00:00:00.000Z']) {
      expect(parseTimestamp(value), String(value)).toBeUndefined();
    }
  });
});

describe('validateEvent', () => {
  it('turns an event into a row with JSON text columns', () => {
    const result = validateEvent(
      { type: 'identify', messageId: 'm', userId: 'u', context: { traits: { a: 1 }, sessionId: 17 }, sentAt: '2026-05-01T00:00:01Z' },
      ctx,
    ) as EventRow;
    expect(isEventError(result)).toBe(false);
    expect(result).toMatchObject({
      messageId: 'm',
      type: 'identify',
      userId: 'u',
      anonymousId: null,
      sessionId: '17',
      timestamp: ctx.receivedAt,
      sentAt: '2026-05-01T00:00:01.000Z',
      traits: '{"a":1}',
      properties: '{}',
    });
  });

  it('measures event size in UTF-8 bytes', () => {
    const big = validateEvent({ type: 'track', event: 'E', anonymousId: 'a', properties: { s: 'é'.repeat(17_000) } }, ctx);
    expect(big).toMatchObject({ code: 'event_too_large' });
    const fits = validateEvent({ type: 'track', event: 'E', anonymousId: 'a', properties: { s: 'e'.repeat(17_000) } }, ctx);
    expect(isEventError(fits)).toBe(false);
  });

  it('refuses unpaired surrogates that PostgreSQL jsonb would reject, but not escaped backslashes', () => {
    expect(validateEvent({ type: 'track', event: 'E', anonymousId: 'a', properties: { s: '\ud800' } }, ctx)).toMatchObject({ code: 'invalid_string' });
    const literal = validateEvent({ type: 'track', event: 'E', anonymousId: 'a', properties: { s: '\\u0000 and 😀' } }, ctx);
    expect(isEventError(literal)).toBe(false);
  });

  it('keeps the JSON texts of properties, traits and context as JSON.stringify writes them', () => {
    const properties = { q: 'say "hi" \\ \n \u0001 😀 é', n: [1.5, -0, 1e21, null] };
    const context = { traits: { t: '\u2028' }, sessionId: 's' };
    const row = validateEvent({ type: 'identify', userId: 'u', properties, context }, ctx) as EventRow;
    expect(row.properties).toBe(JSON.stringify(properties));
    expect(row.context).toBe(JSON.stringify(context));
    // RudderStack's context.traits stand in for missing traits.
    expect(row.traits).toBe(JSON.stringify(context.traits));
  });

  it('replaces lone surrogates in a messageId as PostgreSQL would store them, and reports the id as sent', () => {
    expect(validateEvent({ type: 'track', event: 'E', anonymousId: 'a', messageId: 'm\ud800-😀' }, ctx)).toMatchObject({ messageId: 'm\ufffd-😀' });
    expect(validateEvent({ type: 'nope', messageId: 'm\udc00' }, ctx)).toMatchObject({ code: 'invalid_type', messageId: 'm\udc00' });
  });
});
