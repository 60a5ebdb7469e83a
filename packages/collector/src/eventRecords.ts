import type { EventRow } from './validateEvent';

/**
 * The deduplicating insert, for a group whose COPY met a stored messageId.
 * The whole group travels as ONE json parameter (see {@link eventRecord}),
 * plus two small arrays holding the project id and receipt time of each
 * request in the group, indexed by `j`: pg escapes every element of a `text[]`
 * parameter in JavaScript, which costs far more. Absent keys read as NULL; the
 * JSON columns default to '{}'.
 */
export const INSERT_EVENTS_SQL = `INSERT INTO events (project_id, message_id, type, event, name, user_id, anonymous_id,
  group_id, previous_id, session_id, timestamp, sent_at, received_at, properties, traits, context)
SELECT ($1::text[])[x.j], x.m, x.t, x.e, x.n, x.u, x.a, x.g, x.pv, x.s, x.ts, x.sa, ($2::timestamptz[])[x.j],
  coalesce(x.pj, '{}'::json), coalesce(x.tj, '{}'::json), coalesce(x.cj, '{}'::json)
FROM json_to_recordset($3::json) AS x(j int, m text, t text, e text, n text, u text, a text, g text, pv text,
  s text, ts timestamptz, sa timestamptz, pj json, tj json, cj json)
ON CONFLICT (project_id, message_id) DO NOTHING
RETURNING project_id, message_id`;

// Lone surrogates: JSON.stringify escapes them (\ud800), and json_to_recordset
// refuses such escapes in a text field. Over the text protocol they used to become U+FFFD (UTF-8 encoding);
// keep that. The `u` flag makes the class match unpaired surrogates only.
const LONE_SURROGATE = /[\ud800-\udfff]/gu;

/** `value` as a JSON string literal PostgreSQL accepts as text. */
function jsonString(value: string): string {
  const text = JSON.stringify(value);
  // Escapes other than \" and \\ come out as \uXXXX only for control characters and lone surrogates: rare.
  return text.includes('\\u') ? JSON.stringify(value.replace(LONE_SURROGATE, '\ufffd')) : text;
}

/**
 * One row as a JSON object of the `json_to_recordset` parameter, by
 * concatenation: the JSON columns are already JSON text (from validation), so
 * nothing is serialised twice. `job` indexes the request's project and receipt
 * time (SQL arrays start at 1). Types and timestamps need no escaping (an
 * EventType and ISO strings from validation); NULL columns and empty objects
 * are left out.
 */
export function eventRecord(job: number, row: EventRow): string {
  let r = `{"j":${job},"m":${jsonString(row.messageId)},"t":"${row.type}","ts":"${row.timestamp}"`;
  if (row.event !== null) r += `,"e":${jsonString(row.event)}`;
  if (row.name !== null) r += `,"n":${jsonString(row.name)}`;
  if (row.userId !== null) r += `,"u":${jsonString(row.userId)}`;
  if (row.anonymousId !== null) r += `,"a":${jsonString(row.anonymousId)}`;
  if (row.groupId !== null) r += `,"g":${jsonString(row.groupId)}`;
  if (row.previousId !== null) r += `,"pv":${jsonString(row.previousId)}`;
  if (row.sessionId !== null) r += `,"s":${jsonString(row.sessionId)}`;
  if (row.sentAt !== null) r += `,"sa":"${row.sentAt}"`;
  if (row.properties !== '{}') r += `,"pj":${row.properties}`;
  if (row.traits !== '{}') r += `,"tj":${row.traits}`;
  if (row.context !== '{}') r += `,"cj":${row.context}`;
  return `${r}}`;
}
