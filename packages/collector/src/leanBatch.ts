// A validating single-pass reader for batch bodies that keeps the JSON text of
// each event's properties/traits/context instead of building objects from it.
// JSON.parse + JSON.stringify of those objects (and collecting the garbage)
// was about half of the collector's CPU per event (decision 0007); the text is
// what the COPY needs anyway. Any body it does not take goes the JSON.parse way.
//
// Written for speed (decision 0012): positions are locals passed along rather
// than shared state, containers nobody reads are skipped in one loop with no
// recursion, and member names are matched in place instead of sliced out.
//
// The body is read through windows of at most 64,000 bytes, each decoded to a
// string of its own (decision 0019): V8 puts a string over 128 KiB in its large
// object space, where making one cost 25 times as much as a small one here.
import { MAX_JSON_DEPTH } from './json';

/** An object value of an event kept as its JSON text (protocol 2.1: properties, traits, context). */
export class RawObject {
  /** The object's JSON text exactly as sent, whitespace included. */
  readonly text: string;
  /** A string in it held `\u0000` or an unpaired surrogate escape, which jsonb refuses (so validation refuses them too). */
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

/**
 * The members of an event the collector reads (validateEvent), undefined when
 * absent. One fixed shape: a dictionary object filled per event cost more than
 * reading the rest of the event.
 */
export class LeanFields {
  [member: string]: unknown;
  messageId: unknown = undefined;
  type: unknown = undefined;
  event: unknown = undefined;
  name: unknown = undefined;
  userId: unknown = undefined;
  anonymousId: unknown = undefined;
  groupId: unknown = undefined;
  previousId: unknown = undefined;
  timestamp: unknown = undefined;
  sentAt: unknown = undefined;
  /** A {@link RawObject} when an object, else the value as parsed (validateEvent refuses it). */
  properties: unknown = undefined;
  traits: unknown = undefined;
  context: unknown = undefined;
}

/** An event of a batch as {@link scanBatch} reads it: the members the collector uses, and its size. */
export class LeanEvent {
  /** The event's JSON text, for its size: counted in UTF-8 bytes only near the limit. */
  text = '';
  /** The members the collector reads. */
  readonly fields = new LeanFields();
}

/** The parts of a batch body the collector reads. */
export interface LeanBatch {
  /** `batch`: events as {@link LeanEvent} when they are objects, other values as parsed. */
  batch: unknown;
  sentAt: unknown;
  writeKey: unknown;
}

// What the reader does with a member of an event: the collector ignores it (none), reads its value
// (value), keeps an object as text (raw), or keeps it as text and picks sessionId/traits (context).
const enum Member {
  None,
  Value,
  Raw,
  Context,
}

// No prototype: an escaped key such as "\u005f_proto__" or "toString" must find nothing.
const MEMBERS: Readonly<Record<string, Member>> = Object.assign(Object.create(null) as Record<string, Member>, {
  messageId: Member.Value, type: Member.Value, event: Member.Value, name: Member.Value, userId: Member.Value,
  anonymousId: Member.Value, groupId: Member.Value, previousId: Member.Value, timestamp: Member.Value, sentAt: Member.Value,
  properties: Member.Raw, traits: Member.Raw, context: Member.Context,
});

// MEMBERS' names by length, so that a key is compared in place with the few of its length.
const MEMBERS_BY_LENGTH: string[][] = [];
for (const name of Object.keys(MEMBERS)) (MEMBERS_BY_LENGTH[name.length] ??= []).push(name);

/** The name of the key whose quotes are at `from` and `to - 1`, when it holds no escape and the collector reads it; else ''. */
function memberName(s: string, from: number, to: number): string {
  const names = MEMBERS_BY_LENGTH[to - from - 2];
  if (names !== undefined) for (const name of names) if (s.startsWith(name, from + 1)) return name;
  return '';
}

// The reader's state besides positions: module-level, as one body is read at a time and it never awaits.
// Where the next backslash is at or after the string being read (-1: none left), so strings without
// one are crossed by a native indexOf.
let backslash = -1;
// The last string read held an escape.
let escapes = false;
// A string of the object being read held an escape jsonb refuses.
let badEscape = false;
// The value of the last read*() call.
let value: unknown;
// The closing characters of the containers skip() is in.
const closers: number[] = [];
// Deepest nesting skip() takes: one level below MAX_JSON_DEPTH. It starts at a member's value
// (properties, traits, any member nobody reads) or one level into context, so what it takes is
// always within the limit. A deeper body goes the JSON.parse way, where validateEvent counts
// exactly (and refuses what PostgreSQL's parser, or JSON.stringify, would run out of stack on).
const MAX_SKIP_DEPTH = MAX_JSON_DEPTH - 1;

/** The reader met text that is not JSON; scanBatch then returns null. */
const NOT_JSON = new Error('not JSON');

/**
 * Bytes read as one string at most. A window of 64,000 bytes decodes to at most
 * 64,000 UTF-16 units, so even a two-byte string of it stays under V8's 128 KiB
 * threshold for large objects.
 */
export const WINDOW_BYTES = 64_000;

// The body and the window being read: its bytes [windowStart, windowEnd) as a string.
const EMPTY: Buffer = Buffer.alloc(0);
let bytes: Buffer = EMPTY;
let windowBytes = WINDOW_BYTES;
let windowStart = 0;
let windowEnd = 0;
let windowText = '';

// Any character below U+0020: invalid in strings, and outside them only the whitespace the fast path skips.
const CONTROL = /[\u0000-\u001f]/;

/** Decode the window that starts at byte `from` (a character's first byte) and make it the current one. */
function openWindow(from: number): string {
  let end = Math.min(bytes.length, from + windowBytes);
  // End on a character's first byte, never inside one.
  while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  const s = bytes.toString('utf8', from, end);
  if (CONTROL.test(s)) throw NOT_JSON;
  windowStart = from;
  windowEnd = end;
  windowText = s;
  backslash = s.indexOf('\\');
  return s;
}

/** The byte offset in the body of position `p` of the current window. */
function byteOffset(p: number): number {
  const s = windowText;
  // As many characters as bytes: all ASCII, one byte each.
  return windowStart + (s.length === windowEnd - windowStart ? p : Buffer.byteLength(s.slice(0, p)));
}

/**
 * `read(s, p)` on the current window; when it runs off the end of a window that is
 * not the body's last, once more from `p` at the start of a new window. Read on from
 * {@link windowText} after it. A part too long for a window leaves the body to JSON.parse.
 */
function inWindow(s: string, p: number, read: (s: string, p: number) => number): number {
  try {
    return read(s, p);
  } catch (error) {
    if (error !== NOT_JSON || windowEnd === bytes.length || p === 0) throw error;
  }
  // Spaces may lead: the window can end between a separator and the spaces after it.
  const moved = openWindow(byteOffset(p));
  return read(moved, spaces(moved, 0));
}

/** A position from a skipping function, or the end of reading when it found no JSON (-1). */
function need(p: number): number {
  if (p < 0) throw NOT_JSON;
  return p;
}

// Bodies with control characters take the JSON.parse way, so here the only space is ' '.
function spaces(s: string, p: number): number {
  while (s.charCodeAt(p) === 32) p++;
  return p;
}

function hex4(s: string, at: number): number {
  const digits = s.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
}

// Past the escape at p (a backslash), or -1. Sets badEscape for what jsonb refuses: NUL and unpaired surrogates.
function escape(s: string, p: number): number {
  escapes = true;
  const e = s.charCodeAt(p + 1);
  if (e !== 117) {
    return e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116 ? p + 2 : -1;
  }
  const unit = hex4(s, p + 2);
  if (unit < 0) return -1;
  p += 6;
  if (unit === 0 || (unit >= 0xdc00 && unit <= 0xdfff)) badEscape = true;
  else if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = s.charCodeAt(p) === 92 && s.charCodeAt(p + 1) === 117 ? hex4(s, p + 2) : -1;
    if (low >= 0xdc00 && low <= 0xdfff) p += 6;
    else badEscape = true;
  }
  return p;
}

// Past the string at p (a quote), or -1. The body holds no control characters,
// so only quotes and backslashes matter, and indexOf finds both natively.
function string(s: string, p: number): number {
  p++;
  for (;;) {
    const quote = s.indexOf('"', p);
    if (quote < 0) return -1;
    if (backslash >= 0 && backslash < p) backslash = s.indexOf('\\', p);
    if (backslash < 0 || backslash > quote) return quote + 1;
    p = escape(s, backslash);
    if (p < 0) return -1;
  }
}

function digits(s: string, p: number): number {
  let c = s.charCodeAt(p);
  if (!(c >= 48 && c <= 57)) return -1;
  do c = s.charCodeAt(++p);
  while (c >= 48 && c <= 57);
  return p;
}

// Past the number at p, or -1.
function number(s: string, p: number): number {
  if (s.charCodeAt(p) === 45) p++;
  p = s.charCodeAt(p) === 48 ? p + 1 : digits(s, p);
  if (p < 0) return -1;
  let c = s.charCodeAt(p);
  if (c === 46) {
    p = digits(s, p + 1);
    if (p < 0) return -1;
    c = s.charCodeAt(p);
  }
  if (c !== 101 && c !== 69) return p;
  c = s.charCodeAt(++p);
  return digits(s, c === 43 || c === 45 ? p + 1 : p);
}

// Past a key at p and its colon, at the value; or -1.
function key(s: string, p: number): number {
  if (s.charCodeAt(p) !== 34) return -1;
  p = string(s, p);
  if (p < 0) return -1;
  p = spaces(s, p);
  return s.charCodeAt(p) === 58 ? spaces(s, p + 1) : -1;
}

// Past the JSON value at p, or -1: containers in one loop, with a stack of their closing characters.
function skip(s: string, p: number): number {
  let depth = 0;
  for (;;) {
    let c = s.charCodeAt(p);
    if (c === 34) p = string(s, p);
    else if (c === 123 || c === 91) {
      // '{' + 2 is '}', '[' + 2 is ']'.
      const close = c + 2;
      if (depth === MAX_SKIP_DEPTH) return -1;
      p = spaces(s, p + 1);
      if (s.charCodeAt(p) === close) p++;
      else {
        closers[depth++] = close;
        p = close === 125 ? key(s, p) : p;
        if (p < 0) return -1;
        continue;
      }
    } else if (c === 116) p = s.startsWith('true', p) ? p + 4 : -1;
    else if (c === 102) p = s.startsWith('false', p) ? p + 5 : -1;
    else if (c === 110) p = s.startsWith('null', p) ? p + 4 : -1;
    else p = number(s, p);
    // After a value: close the containers that end here, or go on after a comma.
    for (;;) {
      if (p < 0 || depth === 0) return p;
      p = spaces(s, p);
      c = s.charCodeAt(p++);
      const close = closers[depth - 1]!;
      if (c === 44) {
        p = spaces(s, p);
        if (close === 125) p = key(s, p);
        break;
      }
      if (c !== close) return -1;
      depth--;
    }
    if (p < 0) return -1;
  }
}

// After a member or element at p: the position of the next one, or -1 past the `close` that ends the container.
function next(s: string, p: number, close: number): number {
  p = spaces(s, p);
  const c = s.charCodeAt(p);
  if (c === close) return -(p + 2);
  if (c !== 44) throw NOT_JSON;
  return spaces(s, p + 1);
}

// The value at p, parsed into `value`: strings without escapes sliced, anything else through JSON.parse.
function readValue(s: string, p: number): number {
  escapes = false;
  const quoted = s.charCodeAt(p) === 34;
  const end = need(quoted ? string(s, p) : skip(s, p));
  value = quoted && !escapes ? s.slice(p + 1, end - 1) : JSON.parse(s.slice(p, end));
  return end;
}

// How readKey gives a key's name: sliced (the body's few top-level keys), or matched in place
// against the members the collector reads of an event or of its context ('' for any other).
const enum Names {
  Sliced,
  Event,
  Context,
}

// The key at p: its name into `value` (see Names; a key with escapes is always decoded); returns
// the position of its value.
function readKey(s: string, p: number, names: Names): number {
  escapes = false;
  const end = s.charCodeAt(p) === 34 ? string(s, p) : -1;
  if (end < 0) throw NOT_JSON;
  value = escapes ? (JSON.parse(s.slice(p, end)) as string)
    : names === Names.Sliced ? s.slice(p + 1, end - 1)
    : names === Names.Event ? memberName(s, p, end)
    : s.startsWith('sessionId"', p + 1) ? 'sessionId' : s.startsWith('traits"', p + 1) ? 'traits' : '';
  const colon = spaces(s, end);
  if (s.charCodeAt(colon) !== 58) throw NOT_JSON;
  return spaces(s, colon + 1);
}

// An object value kept as text into `value` (a RawObject); any other value parsed (validateEvent
// refuses it). For `context`, also picks the two members the collector reads.
function readRaw(s: string, p: number, context: boolean): number {
  if (s.charCodeAt(p) !== 123) return readValue(s, p);
  const start = p;
  const outer = badEscape;
  badEscape = false;
  let sessionId: unknown;
  let traits: unknown;
  if (!context) p = need(skip(s, p));
  else {
    p = spaces(s, p + 1);
    if (s.charCodeAt(p) === 125) p++;
    else {
      do {
        p = readKey(s, p, Names.Context);
        if (value === 'sessionId') {
          p = readValue(s, p);
          sessionId = value;
        } else if (value === 'traits') {
          p = readRaw(s, p, false);
          traits = value;
        } else p = need(skip(s, p));
      } while ((p = next(s, p, 125)) >= 0);
      p = -p - 1;
    }
  }
  const raw = new RawObject(s.slice(start, p), badEscape);
  badEscape ||= outer;
  if (sessionId !== undefined) raw.sessionId = sessionId;
  if (traits !== undefined) raw.traits = traits;
  value = raw;
  return p;
}

function readEvent(s: string, p: number): number {
  if (s.charCodeAt(p) !== 123) return readValue(s, p);
  const start = p;
  const event = new LeanEvent();
  const fields = event.fields;
  p = spaces(s, p + 1);
  if (s.charCodeAt(p) === 125) p++;
  else {
    do {
      p = readKey(s, p, Names.Event);
      const name = value as string;
      const member = MEMBERS[name] ?? Member.None;
      if (member === Member.None) p = need(skip(s, p));
      else {
        p = member === Member.Value ? readValue(s, p) : readRaw(s, p, member === Member.Context);
        fields[name] = value;
      }
    } while ((p = next(s, p, 125)) >= 0);
    p = -p - 1;
  }
  event.text = s.slice(start, p);
  value = event;
  return p;
}

// At the batch's `[`: the position of its first element, or -(p + 2) past the `]` of an empty one.
// Anything else leaves the body to JSON.parse, which words the error.
function batchStart(s: string, p: number): number {
  if (s.charCodeAt(p) !== 91) throw NOT_JSON;
  p = spaces(s, p + 1);
  if (s.charCodeAt(p) === 93) return -(p + 2);
  // The window ends here: the `]` of an empty array may be next.
  if (p === s.length) throw NOT_JSON;
  return p;
}

// One element of the batch into `value` (next() leaves it), and what follows it: the position of the
// next one, or -(p + 2) past `]`. Reading on to the comma means that a scalar cut by the end of a
// window never passes as whole.
const element = (s: string, p: number): number => next(s, readEvent(s, p), 93);

// The events of the batch into `value`, window after window; returns the position past the `]`.
function readBatch(p: number): number {
  const events: unknown[] = [];
  p = inWindow(windowText, p, batchStart);
  while (p >= 0) {
    p = inWindow(windowText, p, element);
    events.push(value);
  }
  value = events;
  return -p - 1;
}

// Parts of the body object read by inWindow: a member's key; a member's value (read into `value`,
// or skipped) with what follows it; what follows the batch.
const memberKey = (s: string, p: number): number => readKey(s, p, Names.Sliced);
const readMember = (s: string, p: number): number => next(s, readValue(s, p), 125);
const skippedMember = (s: string, p: number): number => next(s, need(skip(s, p)), 125);
const memberEnd = (s: string, p: number): number => next(s, p, 125);

/**
 * Read a batch body (protocol 2.1) in one pass, validating all of it as JSON. `body` must be valid
 * UTF-8 without a byte-order mark (decodeBody checks). Returns `null` when the body is not JSON, not
 * an object, has no array as `batch`, holds control characters (whitespace such as line breaks
 * included), or has a part longer than about a window (an event of 60 KB, say): the caller then
 * parses it with JSON.parse, which also words the error. `window` is for tests.
 */
export function scanBatch(body: Buffer, window = WINDOW_BYTES): LeanBatch | null {
  bytes = body;
  windowBytes = window;
  badEscape = false;
  const batch: LeanBatch = { batch: undefined, sentAt: undefined, writeKey: undefined };
  try {
    let s = openWindow(0);
    let p = spaces(s, 0);
    if (s.charCodeAt(p) !== 123) return null;
    p = spaces(s, p + 1);
    if (s.charCodeAt(p) === 125) return null;
    do {
      p = inWindow(windowText, p, memberKey);
      const name = value;
      if (name === 'batch') {
        p = readBatch(p);
        p = inWindow(windowText, p, memberEnd);
      } else p = inWindow(windowText, p, name === 'sentAt' || name === 'writeKey' ? readMember : skippedMember);
      if (name === 'batch' || name === 'sentAt' || name === 'writeKey') batch[name] = value;
    } while (p >= 0);
    p = -p - 1;
    s = windowText;
    if (windowEnd < bytes.length) {
      // Spaces after the body may run on past this window.
      s = openWindow(byteOffset(p));
      p = 0;
    }
    return windowEnd === bytes.length && spaces(s, p) === s.length ? batch : null;
  } catch (error) {
    if (error === NOT_JSON) return null;
    throw error;
  } finally {
    value = undefined;
    bytes = EMPTY;
    windowText = '';
  }
}
