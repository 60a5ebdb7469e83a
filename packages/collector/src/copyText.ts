import type { EventRow } from './validateEvent';

/** The columns of `events` a grouped write fills, in the order {@link copyRows} writes them. */
export const EVENT_COLUMNS = [
  'project_id', 'message_id', 'type', 'event', 'name', 'user_id', 'anonymous_id', 'group_id', 'previous_id',
  'session_id', 'timestamp', 'sent_at', 'received_at', 'properties', 'traits', 'context',
] as const;

const NULL = '\\N';
// COPY's text format gives a meaning to these four; anything else goes as is.
const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyField(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

function optional(value: string | null): string {
  return value === null ? NULL : copyField(value);
}

// JSON.stringify writes control characters as escapes, so a JSON text holds
// no tab or line break: only its backslashes need doubling.
function jsonField(text: string): string {
  return text.includes('\\') ? text.replaceAll('\\', '\\\\') : text;
}

// The columns before the JSON ones, each followed by a tab. Timestamps are ISO
// strings from validation and the type one of six words: neither needs escaping.
function copyHead(project: string, receivedAt: string, row: EventRow): string {
  return `${project}\t${copyField(row.messageId)}\t${row.type}\t${optional(row.event)}\t${optional(row.name)}\t${optional(row.userId)}\t${optional(row.anonymousId)}\t${optional(row.groupId)}\t${optional(row.previousId)}\t${optional(row.sessionId)}\t${row.timestamp}\t${row.sentAt ?? NULL}\t${receivedAt}\t`;
}

/** A request's rows as COPY data, and the rows it holds. */
export interface CopyRows {
  /** The rows in COPY's text format, UTF-8. */
  data: Buffer;
  /** The rows written, each messageId's first occurrence, in order. */
  rows: EventRow[];
}

const TAB = 9;
const NEWLINE = 10;

/**
 * `rows` of one request as lines of COPY's text format, columns as
 * {@link EVENT_COLUMNS}, each messageId once (its first occurrence). Written
 * straight into a Buffer: a string built line by line and encoded afterwards
 * cost twice the CPU and the garbage. Lone surrogates become U+FFFD, as UTF-8
 * encoding stores them.
 */
export function copyRows(projectId: string, receivedAt: string, rows: readonly EventRow[]): CopyRows {
  const project = copyField(projectId);
  const seen = new Set<string>();
  const kept: EventRow[] = [];
  let data = Buffer.allocUnsafe(rows.length * 640);
  let at = 0;
  for (const row of rows) {
    if (seen.has(row.messageId)) continue;
    seen.add(row.messageId);
    kept.push(row);
    const head = copyHead(project, receivedAt, row);
    const properties = jsonField(row.properties);
    const traits = jsonField(row.traits);
    const context = jsonField(row.context);
    // UTF-8 needs at most 3 bytes per UTF-16 unit; 3 more for the separators.
    const most = 3 * (head.length + properties.length + traits.length + context.length) + 3;
    if (at + most > data.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * data.length, at + most));
      data.copy(bigger, 0, 0, at);
      data = bigger;
    }
    at += data.write(head, at);
    at += data.write(properties, at);
    data[at++] = TAB;
    at += data.write(traits, at);
    data[at++] = TAB;
    at += data.write(context, at);
    data[at++] = NEWLINE;
  }
  return { data: data.subarray(0, at), rows: kept };
}
