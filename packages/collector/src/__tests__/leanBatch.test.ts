import { describe, expect, it } from 'vitest';
import { decodeBody } from '../decodeBody';
import { MAX_JSON_DEPTH } from '../json';
import { LeanEvent, RawObject, scanBatch } from '../leanBatch';
import { isEventError, validateEvent, type EventRow } from '../validateEvent';
import type { EventError } from '../errors';

// The reader takes bytes: UTF-8 as decodeBody checked it.
const scan = (text: string, window?: number) => scanBatch(Buffer.from(text), window);

const ctx = (index: number) => ({ index, receivedAt: '2026-05-01T00:00:00.000Z', sentAt: null, maxEventBytes: 32 * 1024 });

// Both ways of reading a body must give the same rows, JSON columns equal as JSON.
function rowsBothWays(text: string, window?: number): Array<[EventRow | EventError, EventRow | EventError, unknown]> {
  const lean = scan(text, window);
  expect(lean, text).not.toBeNull();
  const parsed = JSON.parse(text) as { batch: unknown[] };
  const leanEvents = lean!.batch as unknown[];
  expect(leanEvents).toHaveLength(parsed.batch.length);
  return parsed.batch.map((event, i) => [validateEvent(leanEvents[i], ctx(i)), validateEvent(event, ctx(i)), event]);
}

function expectSameRows(text: string, window?: number): void {
  for (const [lean, parsed, event] of rowsBothWays(text, window)) {
    if (isEventError(parsed) || isEventError(lean)) {
      expect(lean).toEqual(parsed);
      continue;
    }
    // A messageId absent from the body is drawn at random on each read.
    const { properties, traits, context, messageId, ...rest } = lean;
    const { properties: p, traits: t, context: c, messageId: m, ...restParsed } = parsed;
    expect(rest).toEqual(restParsed);
    if ((event as { messageId?: unknown }).messageId != null) expect(messageId).toBe(m);
    expect(JSON.parse(properties)).toEqual(JSON.parse(p));
    expect(JSON.parse(traits)).toEqual(JSON.parse(t));
    expect(JSON.parse(context)).toEqual(JSON.parse(c));
  }
}

const body = (events: unknown[], extra: object = {}) => JSON.stringify({ ...extra, batch: events });

const EVENTS: unknown[] = [
  { type: 'track', event: 'Signed Up', messageId: 'm1', anonymousId: 'a', properties: { plan: 'pro', n: 1.5e3, list: [1, [2, { x: null }]], t: true, f: false } },
  { type: 'page', name: 'Home', messageId: 'm2', userId: 17, properties: {}, context: { sessionId: 42, page: { path: '/' }, traits: { ignored: 1 } } },
  { type: 'identify', messageId: 'm3', userId: 'u', context: { traits: { email: 'e@x', nested: { deep: ['é', '😀', '\\', '"'] } }, sessionId: 's' } },
  { type: 'group', groupId: 'g', messageId: 'm4', anonymousId: 'a', traits: { name: 'Acme' } },
  { type: 'alias', previousId: 'p', userId: 'u', messageId: 'm5' },
  { type: 'track', event: 'no id', anonymousId: 'a', timestamp: '2026-01-02T03:04:05+01:00', sentAt: '2026-01-02T03:04:06Z' },
  { type: 'track', event: 'tab\tand\u0001control', anonymousId: 'a\u2028b', messageId: 'm\\"7', properties: { 'key with "quote"': 'a\nb' } },
  { type: 'track', event: 'E', anonymousId: 'a', messageId: 'm8', properties: [1, 2] },
  { type: 'track', event: 'E', anonymousId: 'a', messageId: 'm9', properties: 'text', context: null, traits: 3 },
  { type: 'screen', name: 7, anonymousId: 'a', messageId: 'm10' },
  { type: 'nope', anonymousId: 'a', messageId: 'm11' },
  { type: 'track', anonymousId: 'a', messageId: 'm12' },
  'not an object',
  null,
  [1, 2],
  { type: 'track', event: 'E', anonymousId: 'a', messageId: 'm13', extra: { unknown: [{}, [], '', 0, -0.5e-7] }, integrations: { All: true } },
];

describe('scanBatch', () => {
  it('reads the same rows as JSON.parse, events of every shape and bad ones alike', () => {
    expectSameRows(body(EVENTS, { sentAt: '2026-01-02T03:04:05.000Z', writeKey: 'k', context: { unused: 1 } }));
  });

  it('keeps properties, traits and context as their JSON text, and picks context.sessionId and traits', () => {
    const lean = scan(body([EVENTS[1], EVENTS[2]]))!;
    const [page, identify] = lean.batch as LeanEvent[];
    expect(page).toBeInstanceOf(LeanEvent);
    const context = page!.fields['context'] as RawObject;
    expect(context.text).toBe(JSON.stringify((EVENTS[1] as { context: object }).context));
    expect(context.sessionId).toBe(42);
    expect((identify!.fields['context'] as RawObject).traits).toBeInstanceOf(RawObject);
  });

  it('reads sentAt and writeKey of the body, and the last of repeated keys as JSON.parse does', () => {
    const lean = scan('{"writeKey":"a","batch":[],"writeKey":"b","sentAt":"2026-01-02T03:04:05Z","x":{"batch":1}}')!;
    expect(lean).toEqual({ batch: [], sentAt: '2026-01-02T03:04:05Z', writeKey: 'b' });
    const repeated = scan('{"batch":[{"type":"track","event":"a","event":"b","anonymousId":"x","properties":{"k":1},"properties":{"k":2}}]}')!;
    const row = validateEvent((repeated.batch as unknown[])[0], ctx(0)) as EventRow;
    expect([row.event, row.properties]).toEqual(['b', '{"k":2}']);
  });

  it('flags \\u0000 and unpaired surrogate escapes (jsonb refuses them), not escaped pairs', () => {
    const text = String.raw`{"batch":[
      {"type":"track","event":"E","anonymousId":"a","properties":{"ok":"\ud83d\ude00 \u00e9"}},
      {"type":"track","event":"E","anonymousId":"a","properties":{"bad":"\u0000"}},
      {"type":"track","event":"E","anonymousId":"a","context":{"x":"\ud800"}},
      {"type":"track","event":"E","anonymousId":"a","traits":{"\udc00":1}},
      {"type":"track","event":"E","anonymousId":"a","properties":{"ok":1}}]}`.replace(/\n\s*/g, '');
    const results = ((scan(text)!.batch as unknown[]).map((event, i) => validateEvent(event, ctx(i))));
    expect(results.map((r) => (isEventError(r) ? r.code : 'ok'))).toEqual(['ok', 'invalid_string', 'invalid_string', 'invalid_string', 'ok']);
    expect(JSON.parse((results[0] as EventRow).properties)).toEqual({ ok: '😀 é' });
    expectSameRows(text);
  });

  it('leaves to JSON.parse what is not JSON, has control characters (line breaks included), or is not an object', () => {
    const invalid = [
      '', ' ', '{', '{"batch":[}', '{"batch":[1,]}', '{"batch":[],}', '{,}', "{'batch':[]}", '{batch:[]}',
      '{"batch":[01]}', '{"batch":[1.]}', '{"batch":[.5]}', '{"batch":[-]}', '{"batch":[+1]}', '{"batch":[1e]}',
      '{"batch":[NaN]}', '{"batch":[tru]}', '{"batch":[nul]}', '{"batch":["\\x"]}', '{"batch":["\\u12G4"]}',
      '{"batch":["a\u0001"]}', '{"batch":[]} x', '{"batch":[]}}', '{"a" "b"}', '{"a":1 "b":2}', '{"batch":["abc]}',
      '{"batch":[{"type":"track""event":"x"}]}', '{"batch":[{"properties":{"a":1,}}]}', '{"batch":["\\"]}',
    ];
    for (const text of invalid) {
      expect(scan(text), text).toBeNull();
      expect(() => JSON.parse(text), text).toThrow();
    }
    // Valid JSON the fast path leaves to JSON.parse.
    for (const text of ['{\n"batch": []\n}', '{\t"batch":[]}', '[]', '"batch"', '{}']) {
      expect(scan(text), text).toBeNull();
      expect(() => JSON.parse(text), text).not.toThrow();
    }
    expect(scan(`{"batch":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)).toBeNull();
  });

  it('reads nesting up to the limit itself and leaves deeper bodies to JSON.parse, where validation counts exactly', async () => {
    // properties at `levels` deep: the object is level 1, each array one more.
    const batch = (levels: number) => `{"batch":[{"type":"track","event":"E","anonymousId":"a","properties":{"x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}}]}`;
    expect(scan(batch(MAX_JSON_DEPTH - 1))).not.toBeNull();
    expect(scan(batch(MAX_JSON_DEPTH))).toBeNull();
    const codes = await Promise.all([MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1].map(async (levels) => {
      const { value } = await decodeBody(Buffer.from(batch(levels)), undefined, 1 << 20, true);
      const result = validateEvent((value as { batch: unknown[] }).batch[0], ctx(0));
      return isEventError(result) ? result.code : 'ok';
    }));
    expect(codes).toEqual(['ok', 'ok', 'invalid_field']);
  });

  it('agrees with JSON.parse on thousands of mutated bodies', () => {
    const source = body(EVENTS.slice(0, 6), { sentAt: '2026-01-02T03:04:05.000Z' });
    const alphabet = '{}[]",:\\ 0-.eE+tfnu1aZ/';
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    let acceptedInWindows = 0;
    for (let round = 0; round < 4000; round++) {
      let text = source;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length);
        const kind = random(3);
        const char = alphabet[random(alphabet.length)]!;
        text = kind === 0 ? text.slice(0, at) + text.slice(at + 1) : kind === 1 ? text.slice(0, at) + char + text.slice(at) : text.slice(0, at) + char + text.slice(at + 1);
      }
      // A cut through a surrogate pair: bodies are valid UTF-8 (decodeBody checks), which cannot hold one.
      if (/[\ud800-\udfff]/u.test(text)) continue;
      let valid = true;
      try {
        const value = JSON.parse(text) as unknown;
        valid = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
      } catch {
        valid = false;
      }
      const lean = scan(text);
      expect(lean !== null, text).toBe(valid);
      if (lean !== null && Array.isArray(lean.batch)) {
        expectSameRows(text);
        accepted++;
      }
      // Through windows of 256 bytes: every event of the source fits in one, but a mutant may make
      // a longer part (a renamed "batch" is one member to skip), which is then left to JSON.parse.
      const windowed = scan(text, 256);
      if (windowed !== null) {
        expect(valid, text).toBe(true);
        if (Array.isArray(windowed.batch)) {
          expectSameRows(text, 256);
          acceptedInWindows++;
        }
      }
    }
    // Enough of the mutants stay valid for the comparison to mean something.
    expect(accepted).toBeGreaterThan(200);
    expect(acceptedInWindows).toBeGreaterThan(200);
  });

  it('reads a body window after window, whatever byte a window ends on', () => {
    // Characters of 1 to 4 bytes and escapes, so that windows end inside and between every kind of token.
    const events = EVENTS.map((event, i) =>
      typeof event === 'object' && event !== null && !Array.isArray(event) ? { ...event, note: `é${i}€😀\\"x`.repeat(1 + (i % 3)) } : event,
    );
    const compact = body(events, { sentAt: '2026-01-02T03:04:05.000Z', writeKey: 'k', context: { unused: '😀' } }) + '   ';
    // A space after every separator, as Python's json.dumps writes, and inside brackets (JSON text
    // holds no raw line break inside a string, so only the indentation is replaced).
    const spaced = JSON.stringify(JSON.parse(compact), null, 1).replace(/\n */g, ' ') + '   ';
    const longest = Math.max(...events.map((event) => Buffer.byteLength(JSON.stringify(event, null, 1).replace(/\n */g, ' '))));
    // A window must hold an event and the comma after it.
    for (const text of [compact, spaced]) {
      for (let window = longest + 2; window < longest + 160; window++) {
        expect(scan(text, window)?.sentAt, `window ${window}`).toBe('2026-01-02T03:04:05.000Z');
        expectSameRows(text, window);
      }
    }
  });

  it('leaves a body with a part longer than a window to JSON.parse, which decodeBody then uses', async () => {
    const big = { type: 'track', event: 'Big', anonymousId: 'a', messageId: 'big', properties: { blob: 'x'.repeat(70_000) } };
    const text = body([EVENTS[0], big, EVENTS[1]]);
    expect(scan(text)).toBeNull();
    const { value } = await decodeBody(Buffer.from(text), undefined, 1 << 20, true);
    expect(value).toEqual(JSON.parse(text));
  });

  it('decodeBody reads a batch as bytes: a byte-order mark is dropped, invalid UTF-8 refused', async () => {
    const text = body([EVENTS[0]]);
    const withMark = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const { value } = await decodeBody(withMark, undefined, 1 << 20, true);
    expect((value as { batch: unknown[] }).batch[0]).toBeInstanceOf(LeanEvent);
    // A lone continuation byte, an overlong '/', a UTF-8 encoded surrogate.
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const bytes = Buffer.concat([Buffer.from(text.slice(0, 30)), Buffer.from(bad), Buffer.from(text.slice(30))]);
      await expect(decodeBody(bytes, undefined, 1 << 20, true)).rejects.toMatchObject({ statusCode: 400, code: 'invalid_json', message: 'The body is not valid UTF-8.' });
    }
  });

  it('decodeBody falls back to JSON.parse for a pretty-printed batch, and still words the error of a bad one', async () => {
    const pretty = JSON.stringify({ batch: [EVENTS[0]] }, null, 2);
    const { value } = await decodeBody(Buffer.from(pretty), undefined, 1 << 20, true);
    expect(value).toEqual(JSON.parse(pretty));
    const lean = (await decodeBody(Buffer.from(JSON.stringify({ batch: [EVENTS[0]] })), undefined, 1 << 20, true)).value;
    expect((lean as { batch: unknown[] }).batch[0]).toBeInstanceOf(LeanEvent);
    await expect(decodeBody(Buffer.from('{"batch":[1,]}'), undefined, 1 << 20, true)).rejects.toMatchObject({ statusCode: 400, code: 'invalid_json' });
  });
});
