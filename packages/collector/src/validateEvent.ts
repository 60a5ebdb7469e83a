import { randomUUID } from 'node:crypto';
import { canonicalMillis } from './canonicalTime';
import type { EventError, EventErrorCode } from './errors';
import { deeperThan, isObject, MAX_JSON_DEPTH } from './json';
import { LeanEvent, RawObject } from './leanBatch';

/** The six event types of the Segment spec. */
export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** An event as stored: text columns as strings, JSON columns as JSON text. */
export interface EventRow {
  messageId: string;
  type: EventType;
  event: string | null;
  name: string | null;
  userId: string | null;
  anonymousId: string | null;
  groupId: string | null;
  previousId: string | null;
  sessionId: string | null;
  /** ISO 8601 in UTC. */
  timestamp: string;
  sentAt: string | null;
  properties: string;
  traits: string;
  context: string;
}

/** What {@link validateEvent} needs besides the event. */
export interface ValidateContext {
  /** Position in the batch, for the error. */
  index: number;
  /** When the request arrived (ISO); the timestamp of events without one. */
  receivedAt: string;
  /** The batch's `sentAt` (ISO), used when the event has none. */
  sentAt: string | null;
  /** Type implied by a single-event endpoint (`/v1/track`), overriding `type`. */
  forcedType?: EventType | undefined;
  /** Largest event in UTF-8 bytes of its JSON; `Infinity` skips the check. */
  maxEventBytes: number;
}

const MAX_MESSAGE_ID = 128;
// Date-time with a zone designator; without one the instant depends on the server's zone.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;
// PostgreSQL rejects NUL in text and jsonb, and unpaired surrogate escapes in
// jsonb. The payload columns are json, which would store them, but then no
// query could cast a payload to jsonb: refused all the same (protocol 4.2).
// JSON.stringify writes both as \u escapes, so look for an unescaped one.
const BAD_JSON_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Parse an ISO 8601 date-time with a zone into a normalised UTC ISO string,
 * or `undefined` when it is not one. Normalising keeps PostgreSQL from ever
 * rejecting a value the collector accepted (e.g. `2024-02-30`).
 */
export function parseTimestamp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Already normalised, and a real date: kept as sent instead of parsed and written back.
  if (!Number.isNaN(canonicalMillis(value))) return value;
  if (!ISO_DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value.replace(' ', 'T'));
  // Years 1..9999: what both Date#toISOString and PostgreSQL read back as four digits.
  if (!(ms >= -62135596800000 && ms <= 253402300799999)) return undefined;
  return new Date(ms).toISOString();
}

function fail(ctx: ValidateContext, messageId: string | null, code: EventErrorCode, message: string): EventError {
  return { index: ctx.index, messageId, code, message };
}

// Ids: strings, or finite numbers some clients send; `null` when absent, `false` when wrong.
function readId(value: unknown): string | null | false {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') return value.includes('\0') ? false : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return false;
}

// `undefined` when absent (or null), `false` when not an object.
function optionalObject(value: unknown): Record<string, unknown> | undefined | false {
  if (value === undefined || value === null) return undefined;
  return isObject(value) ? value : false;
}

// The JSON text of a properties/traits/context object, kept in the row: the
// writer puts it into the statement as is, so it is serialised once. `false`
// for a string PostgreSQL refuses. Nesting was checked before (deepMember).
function jsonText(value: Record<string, unknown> | undefined): string | false {
  if (value === undefined) return '{}';
  if (value instanceof RawObject) return value.badEscape ? false : value.text;
  const text = JSON.stringify(value);
  // JSON.stringify writes \u only for control characters and lone surrogates:
  // rare, so the cheap test spares the regular expression for almost every payload.
  return text.includes('\\u') && BAD_JSON_ESCAPE.test(text) ? false : text;
}

// Lone surrogates (the `u` flag makes the class match unpaired ones only).
const LONE_SURROGATE = /[\ud800-\udfff]/gu;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * `value` with lone surrogates replaced by U+FFFD, as UTF-8 encoding stores
 * them, so a messageId compares equal to the one PostgreSQL stores and returns.
 */
function wellFormed(value: string): string {
  return SURROGATE.test(value) ? value.replace(LONE_SURROGATE, '\ufffd') : value;
}

/**
 * Size of the event's JSON in UTF-8 bytes, reusing the texts already built
 * for storage instead of serialising the whole event again. Exact up to the
 * punctuation between top-level keys; a count in UTF-16 units bounds it
 * (UTF-8 needs at most 3 bytes per unit), so bytes are counted only near the limit.
 */
function eventBytes(raw: Record<string, unknown>, properties: string, traits: string, context: string, limit: number): number {
  if (raw instanceof LeanEvent) {
    const units = raw.text.length;
    return units * 3 <= limit || units > limit ? units : Buffer.byteLength(raw.text);
  }
  let units = 2;
  for (const key in raw) {
    const value = raw[key];
    if (value === undefined) continue;
    units += key.length + 6 + textOf(raw, key, properties, traits, context).length;
  }
  if (units * 3 <= limit || units > limit) return units;
  let bytes = 2;
  for (const key in raw) {
    if (raw[key] === undefined) continue;
    bytes += Buffer.byteLength(key) + 6 + Buffer.byteLength(textOf(raw, key, properties, traits, context));
  }
  return bytes;
}

/**
 * Whether a member of the event nests past MAX_JSON_DEPTH. PostgreSQL's JSON parser would run out
 * of stack on properties, traits or context, and JSON.stringify (serialising them, or sizing the
 * event) on any member. A LeanEvent never does: scanBatch leaves such bodies to JSON.parse.
 */
function deepMember(raw: Record<string, unknown>): boolean {
  if (raw instanceof LeanEvent) return false;
  for (const key in raw) if (deeperThan(raw[key], MAX_JSON_DEPTH)) return true;
  return false;
}

function textOf(raw: Record<string, unknown>, key: string, properties: string, traits: string, context: string): string {
  const value = raw[key];
  return key === 'properties' ? properties
    : key === 'context' ? context
    : key === 'traits' ? traits
    : typeof value === 'string' ? value
    : JSON.stringify(value) ?? '';
}

/**
 * Check one event of a batch and turn it into a row, or say why not.
 * Deliberately hand-written: a schema library costs more than the insert.
 */
export function validateEvent(input: unknown, ctx: ValidateContext): EventRow | EventError {
  if (!isObject(input)) return fail(ctx, null, 'invalid_event', 'An event must be a JSON object.');
  // A batch read by scanBatch: its members, with properties/traits/context still JSON text.
  const raw = input instanceof LeanEvent ? input.fields : input;

  let messageId: string;
  // Errors name the client's own messageId only: an assigned one means nothing to it.
  let reportedId: string | null = null;
  const rawId = raw['messageId'];
  if (rawId === undefined || rawId === null) {
    messageId = randomUUID();
  } else if (typeof rawId !== 'string' || rawId.length === 0 || rawId.length > MAX_MESSAGE_ID || rawId.includes('\0')) {
    return fail(ctx, null, 'invalid_message_id', `messageId must be a non-empty string of at most ${MAX_MESSAGE_ID} characters.`);
  } else {
    messageId = wellFormed(rawId);
    reportedId = rawId;
  }

  const type = ctx.forcedType ?? raw['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return fail(ctx, reportedId, 'invalid_type', `type must be one of ${EVENT_TYPES.join(', ')}.`);
  }

  const userId = readId(raw['userId']);
  const anonymousId = readId(raw['anonymousId']);
  if (userId === false || anonymousId === false) {
    return fail(ctx, reportedId, 'invalid_identity', 'userId and anonymousId must be strings.');
  }
  if (userId === null && anonymousId === null) {
    return fail(ctx, reportedId, 'missing_identity', 'An event needs a userId or an anonymousId.');
  }

  let event: string | null = null;
  let name: string | null = null;
  let groupId: string | null = null;
  let previousId: string | null = null;
  if (type === 'track') {
    const value = raw['event'];
    if (typeof value !== 'string' || value.length === 0) {
      return fail(ctx, reportedId, 'missing_event', 'A track event needs an event name (`event`).');
    }
    event = value;
  } else if (type === 'page' || type === 'screen') {
    const value = raw['name'];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      return fail(ctx, reportedId, 'invalid_field', 'name must be a string.');
    }
    name = value ?? null;
  } else if (type === 'group') {
    const value = readId(raw['groupId']);
    if (value === false || value === null) return fail(ctx, reportedId, 'invalid_field', 'A group event needs a groupId string.');
    groupId = value;
  } else if (type === 'alias') {
    const value = readId(raw['previousId']);
    if (value === false || value === null) return fail(ctx, reportedId, 'invalid_field', 'An alias event needs a previousId string.');
    previousId = value;
  }
  if ((event !== null && event.includes('\0')) || (name !== null && name.includes('\0'))) {
    return fail(ctx, reportedId, 'invalid_string', 'Strings must not contain NUL characters.');
  }

  const properties = optionalObject(raw['properties']);
  const context = optionalObject(raw['context']);
  let traits = optionalObject(raw['traits']);
  if (properties === false || traits === false || context === false) {
    return fail(ctx, reportedId, 'invalid_field', 'properties, traits and context must be JSON objects.');
  }
  // RudderStack sends identify traits only in context.traits.
  if (traits === undefined && type === 'identify' && context !== undefined) {
    const contextTraits = optionalObject(context['traits']);
    if (contextTraits) traits = contextTraits;
  }

  let timestamp = ctx.receivedAt;
  if (raw['timestamp'] !== undefined && raw['timestamp'] !== null) {
    const parsed = parseTimestamp(raw['timestamp']);
    if (parsed === undefined) return fail(ctx, reportedId, 'invalid_timestamp', 'timestamp must be an ISO 8601 date-time with a time zone.');
    timestamp = parsed;
  }
  let sentAt = ctx.sentAt;
  if (raw['sentAt'] !== undefined && raw['sentAt'] !== null) {
    const parsed = parseTimestamp(raw['sentAt']);
    if (parsed === undefined) return fail(ctx, reportedId, 'invalid_timestamp', 'sentAt must be an ISO 8601 date-time with a time zone.');
    sentAt = parsed;
  }

  // A malformed session id is context, not a reason to lose the event.
  if (deepMember(input)) {
    return fail(ctx, reportedId, 'invalid_field', `No member of an event may nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  const sessionId = context === undefined ? null : readId(context['sessionId']) || null;
  const propertiesText = jsonText(properties);
  const traitsText = jsonText(traits);
  const contextText = jsonText(context);
  if (propertiesText === false || traitsText === false || contextText === false) {
    return fail(ctx, reportedId, 'invalid_string', 'Strings must not contain NUL characters or unpaired surrogates.');
  }
  if (ctx.maxEventBytes !== Infinity && eventBytes(input, propertiesText, traitsText, contextText, ctx.maxEventBytes) > ctx.maxEventBytes) {
    return fail(ctx, reportedId, 'event_too_large', `The event exceeds ${ctx.maxEventBytes} bytes.`);
  }

  return {
    messageId,
    type: type as EventType,
    event,
    name,
    userId,
    anonymousId,
    groupId,
    previousId,
    sessionId,
    timestamp,
    sentAt,
    properties: propertiesText,
    traits: traitsText,
    context: contextText,
  };
}

/** Tell a row from an error. */
export function isEventError(value: EventRow | EventError): value is EventError {
  return 'code' in value;
}
