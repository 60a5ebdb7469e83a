// A validating single-pass reader for batch bodies that keeps the JSON text of
// each event's properties/traits/context instead of building objects from it.
// JSON.parse + JSON.stringify of those objects (and collecting the garbage)
// was about half of the collector's CPU per event (decision 0007); the text is
// what the COPY needs anyway. Any body it does not take goes the JSON.parse way.

/** An object value of an event kept as its JSON text (protocol 2.1: properties, traits, context). */
export class RawObject {
  /** The object's JSON text exactly as sent, whitespace included. */
  readonly text: string;
  /** A string in it held `\u0000` or an unpaired surrogate escape: PostgreSQL refuses both in jsonb. */
  readonly badEscape: boolean;
  /** `context.sessionId`, the only member of context the collector reads (undefined when absent). */
  sessionId?: unknown;
  /** `context.traits` (RudderStack puts identify traits there). */
  traits?: unknown;

  constructor(text: string, badEscape: boolean) {
    this.text = text;
    this.badEscape = badEscape;
  }
}

/** An event of a batch as {@link scanBatch} reads it: the members the collector uses, and its size. */
export class LeanEvent {
  /** The event's JSON text, for its size: counted in UTF-8 bytes only near the limit. */
  readonly text: string;
  /** The members the collector reads (validateEvent), by name. */
  readonly fields: Record<string, unknown>;

  constructor(text: string, fields: Record<string, unknown>) {
    this.text = text;
    this.fields = fields;
  }
}

/** The parts of a batch body the collector reads. */
export interface LeanBatch {
  /** `batch`: events as {@link LeanEvent} when they are objects, other values as parsed. */
  batch: unknown;
  sentAt: unknown;
  writeKey: unknown;
}

// The members of an event the collector reads (validateEvent); all others are only checked as JSON.
const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'messageId', 'type', 'event', 'name', 'userId', 'anonymousId', 'groupId', 'previousId', 'timestamp', 'sentAt',
]);

// The scanner's state: module-level for speed (one body at a time; it never awaits).
let src = '';
let pos = 0;
// Where the next backslash is at or after pos (-1: none left), so strings without one are skipped by indexOf.
let backslash = -1;
let escapes = false;
let badEscape = false;

/** The scanner met text that is not JSON; the caller falls back to JSON.parse for the message. */
const NOT_JSON = new Error('not JSON');

function fail(): never {
  throw NOT_JSON;
}

// Bodies with control characters take the JSON.parse way, so here the only space is ' '.
function space(): void {
  while (src.charCodeAt(pos) === 32) pos++;
}

function hex4(at: number): number {
  const digits = src.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
}

// One escape at pos (a backslash); sets badEscape for what jsonb refuses: NUL and unpaired surrogates.
function escape(): void {
  escapes = true;
  const e = src.charCodeAt(pos + 1);
  if (e !== 117) {
    if (e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) fail();
    pos += 2;
    return;
  }
  const unit = hex4(pos + 2);
  if (unit < 0) fail();
  pos += 6;
  if (unit === 0 || (unit >= 0xdc00 && unit <= 0xdfff)) badEscape = true;
  else if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = src.charCodeAt(pos) === 92 && src.charCodeAt(pos + 1) === 117 ? hex4(pos + 2) : -1;
    if (low >= 0xdc00 && low <= 0xdfff) pos += 6;
    else badEscape = true;
  }
}

// Past the string at pos (a quote). The body holds no control characters, so
// only quotes and backslashes matter, and indexOf finds both natively.
function skipString(): void {
  pos++;
  for (;;) {
    const quote = src.indexOf('"', pos);
    if (quote < 0) fail();
    if (backslash >= 0 && backslash < pos) backslash = src.indexOf('\\', pos);
    if (backslash < 0 || backslash > quote) {
      pos = quote + 1;
      return;
    }
    pos = backslash;
    escape();
  }
}

function digits(): void {
  const start = pos;
  let c = src.charCodeAt(pos);
  while (c >= 48 && c <= 57) c = src.charCodeAt(++pos);
  if (pos === start) fail();
}

function skipNumber(): void {
  if (src.charCodeAt(pos) === 45) pos++;
  if (src.charCodeAt(pos) === 48) pos++;
  else digits();
  if (src.charCodeAt(pos) === 46) {
    pos++;
    digits();
  }
  const e = src.charCodeAt(pos);
  if (e === 101 || e === 69) {
    const sign = src.charCodeAt(++pos);
    if (sign === 43 || sign === 45) pos++;
    digits();
  }
}

function literal(word: string): void {
  if (!src.startsWith(word, pos)) fail();
  pos += word.length;
}

// After a member or element: true when `close` ends the container, false after a comma.
function next(close: number): boolean {
  space();
  const c = src.charCodeAt(pos++);
  if (c === close) return true;
  if (c !== 44) fail();
  space();
  return false;
}

// At the start of a container's content: true (and past `close`) when it is empty.
function empty(close: number): boolean {
  pos++;
  space();
  if (src.charCodeAt(pos) !== close) return false;
  pos++;
  return true;
}

// The colon after a key; leaves pos at the value.
function colon(): void {
  space();
  if (src.charCodeAt(pos++) !== 58) fail();
  space();
}

// A key and its colon; leaves pos at the value.
function readKey(): string {
  if (src.charCodeAt(pos) !== 34) fail();
  const key = readString();
  colon();
  return key;
}

function readString(): string {
  const start = pos;
  escapes = false;
  skipString();
  return escapes ? (JSON.parse(src.slice(start, pos)) as string) : src.slice(start + 1, pos - 1);
}

// Past one JSON value at pos.
function skipValue(): void {
  const c = src.charCodeAt(pos);
  if (c === 34) skipString();
  else if (c === 123) {
    if (empty(125)) return;
    do {
      // Keys of objects nobody reads are checked, never sliced.
      if (src.charCodeAt(pos) !== 34) fail();
      skipString();
      colon();
      skipValue();
    } while (!next(125));
  } else if (c === 91) {
    if (empty(93)) return;
    do skipValue();
    while (!next(93));
  } else if (c === 116) literal('true');
  else if (c === 102) literal('false');
  else if (c === 110) literal('null');
  else if (c === 45 || (c >= 48 && c <= 57)) skipNumber();
  else fail();
}

// The value at pos, parsed: strings without escapes are sliced, anything else goes through JSON.parse.
function readValue(): unknown {
  if (src.charCodeAt(pos) === 34) return readString();
  const start = pos;
  skipValue();
  return JSON.parse(src.slice(start, pos)) as unknown;
}

// An object value kept as text; any other value parsed (validateEvent refuses it). `context` also
// picks the two members the collector reads.
function readRaw(context: boolean): unknown {
  if (src.charCodeAt(pos) !== 123) return readValue();
  const start = pos;
  const outer = badEscape;
  badEscape = false;
  let sessionId: unknown;
  let traits: unknown;
  if (!empty(125)) {
    do {
      const key = readKey();
      if (context && key === 'sessionId') sessionId = readValue();
      else if (context && key === 'traits') traits = readRaw(false);
      else skipValue();
    } while (!next(125));
  }
  const raw = new RawObject(src.slice(start, pos), badEscape);
  badEscape ||= outer;
  if (sessionId !== undefined) raw.sessionId = sessionId;
  if (traits !== undefined) raw.traits = traits;
  return raw;
}

function readEvent(): unknown {
  if (src.charCodeAt(pos) !== 123) return readValue();
  const start = pos;
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (!empty(125)) {
    do {
      const key = readKey();
      if (EVENT_FIELDS.has(key)) fields[key] = readValue();
      else if (key === 'properties' || key === 'traits') fields[key] = readRaw(false);
      else if (key === 'context') fields[key] = readRaw(true);
      else skipValue();
    } while (!next(125));
  }
  return new LeanEvent(src.slice(start, pos), fields);
}

function readBatch(body: LeanBatch): void {
  if (src.charCodeAt(pos) !== 91) {
    body.batch = readValue();
    return;
  }
  const events: unknown[] = [];
  if (!empty(93)) {
    do events.push(readEvent());
    while (!next(93));
  }
  body.batch = events;
}

// Any character below U+0020: invalid in strings, and outside them only the whitespace the fast path skips.
const CONTROL = /[\u0000-\u001f]/;

/**
 * Read a batch body (protocol 2.1) in one pass, from text a fatal UTF-8 decoder gave (so no lone
 * surrogates), validating all of it as JSON. Returns `null` when
 * the text is not JSON, not an object, or holds control characters (whitespace such as line breaks
 * included): the caller then parses it with JSON.parse, which also words the error.
 */
export function scanBatch(text: string): LeanBatch | null {
  if (CONTROL.test(text)) return null;
  src = text;
  pos = 0;
  backslash = text.indexOf('\\');
  badEscape = false;
  const body: LeanBatch = { batch: undefined, sentAt: undefined, writeKey: undefined };
  try {
    space();
    if (src.charCodeAt(pos) !== 123 || empty(125)) return null;
    do {
      const key = readKey();
      if (key === 'batch') readBatch(body);
      else if (key === 'sentAt' || key === 'writeKey') body[key] = readValue();
      else skipValue();
    } while (!next(125));
    space();
    return pos === src.length ? body : null;
  } catch (error) {
    // RangeError: nesting deeper than the stack, which JSON.parse copes with.
    if (error === NOT_JSON || error instanceof RangeError) return null;
    throw error;
  } finally {
    src = '';
  }
}
