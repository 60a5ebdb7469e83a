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

// One row, columns as EVENT_COLUMNS. Timestamps are ISO strings from
// validation and the type one of six words: neither needs escaping.
function copyLine(project: string, receivedAt: string, row: EventRow): string {
  return `${project}\t${copyField(row.messageId)}\t${row.type}\t${optional(row.event)}\t${optional(row.name)}\t${optional(row.userId)}\t${optional(row.anonymousId)}\t${optional(row.groupId)}\t${optional(row.previousId)}\t${optional(row.sessionId)}\t${row.timestamp}\t${row.sentAt ?? NULL}\t${receivedAt}\t${jsonField(row.properties)}\t${jsonField(row.traits)}\t${jsonField(row.context)}\n`;
}

/** A request's rows in COPY's text format, and the rows it holds. */
export interface CopyRows {
  text: string;
  /** The rows written, each messageId's first occurrence, in order. */
  rows: EventRow[];
}

/**
 * `rows` of one request as lines of COPY's text format, columns as
 * {@link EVENT_COLUMNS}, each messageId once (its first occurrence). Lone
 * surrogates become U+FFFD when the text is encoded as UTF-8, as they did
 * over the query protocol.
 */
export function copyRows(projectId: string, receivedAt: string, rows: readonly EventRow[]): CopyRows {
  const project = copyField(projectId);
  const seen = new Set<string>();
  const kept: EventRow[] = [];
  let text = '';
  for (const row of rows) {
    if (seen.has(row.messageId)) continue;
    seen.add(row.messageId);
    kept.push(row);
    text += copyLine(project, receivedAt, row);
  }
  return { text, rows: kept };
}
