// The events table's shape, read from the collector's migrations so the raw
// limits (COPY, PGlite inserts) write the same rows into the same-shaped
// table as the collector does: same columns, types, indexes and constraints.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Used only while packages/collector/migrations does not exist yet.
const FALLBACK_SQL = `
CREATE TABLE IF NOT EXISTS events (
  project_id   text        NOT NULL,
  message_id   text        NOT NULL,
  type         text        NOT NULL,
  event        text,
  name         text,
  anonymous_id text,
  user_id      text,
  session_id   text,
  "timestamp"  timestamptz NOT NULL,
  sent_at      timestamptz,
  received_at  timestamptz NOT NULL DEFAULT now(),
  properties   jsonb       NOT NULL DEFAULT '{}',
  traits       jsonb,
  context      jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (project_id, message_id)
);
CREATE INDEX IF NOT EXISTS events_project_time ON events (project_id, "timestamp");
`;

export function loadMigrations(root) {
  const dir = join(root, 'packages/collector/migrations');
  if (existsSync(dir)) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
    if (files.length > 0) return { source: `packages/collector/migrations (${files.join(', ')})`, sql: files.map((f) => readFileSync(join(dir, f), 'utf8')) };
  }
  return { source: 'bench/lib/schema.mjs fallback (no collector migrations yet)', sql: [FALLBACK_SQL] };
}

const COLUMNS_SQL = `
SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable, column_default AS dflt, is_identity = 'YES' AS identity, is_generated <> 'NEVER' AS generated
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`;

/** Finds the events table and its columns. `query(sql, params)` returns rows. */
export async function describeEvents(query) {
  const tables = (await query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`, [])).map((r) => r.t);
  const table = tables.includes('events') ? 'events' : tables.find((t) => /event/.test(t) && !/dedupe|rollup|metric/.test(t));
  if (!table) throw new Error(`no events table among ${tables.join(', ')}`);
  const columns = await query(COLUMNS_SQL, [table]);
  return { table, columns, tables };
}

const norm = (s) => s.toLowerCase().replace(/_/g, '');

/**
 * Maps an event to the table's columns by name. Columns with a default or
 * identity that we cannot map are left out (the database fills them, as it
 * does for the collector). Returns { cols, toRow(event, receivedAtIso) }.
 */
export function rowMapper(columns, { projectId }) {
  const pick = {
    projectid: () => projectId, tenantid: () => projectId, project: () => projectId,
    messageid: (e) => e.messageId,
    type: (e) => e.type,
    event: (e) => e.event ?? null, eventname: (e) => e.event ?? e.name ?? null,
    name: (e) => e.name ?? null,
    anonymousid: (e) => e.anonymousId ?? null,
    userid: (e) => e.userId ?? null,
    sessionid: (e) => e.context?.sessionId ?? null,
    timestamp: (e) => e.timestamp, ts: (e) => e.timestamp, occurredat: (e) => e.timestamp, eventtime: (e) => e.timestamp,
    sentat: (e) => e.sentAt ?? null,
    receivedat: (_e, r) => r, insertedat: (_e, r) => r, createdat: (_e, r) => r,
    properties: (e) => JSON.stringify(e.properties ?? {}), props: (e) => JSON.stringify(e.properties ?? {}),
    traits: (e) => (e.traits ? JSON.stringify(e.traits) : null),
    context: (e) => JSON.stringify(e.context ?? {}),
    raw: (e) => JSON.stringify(e), payload: (e) => JSON.stringify(e), body: (e) => JSON.stringify(e), data: (e) => JSON.stringify(e),
  };
  const cols = [];
  const fns = [];
  const skipped = [];
  for (const c of columns) {
    if (c.identity || c.generated) { skipped.push(c.name); continue; }
    const f = pick[norm(c.name)];
    if (f) { cols.push(c); fns.push(f); continue; }
    if (c.dflt != null || c.nullable) { skipped.push(c.name); continue; }
    throw new Error(`cannot map NOT NULL column ${c.name} (${c.type}) without default`);
  }
  // Text-typed timestamp columns still get ISO strings; json/jsonb get JSON text.
  // A NOT NULL json/jsonb column with a default ('{}') gets '{}' when the event lacks it, as the collector must.
  const fill = cols.map((c) => (!c.nullable && (c.type === 'jsonb' || c.type === 'json') ? '{}' : null));
  return { cols, skipped, toRow: (e, r) => fns.map((f, i) => f(e, r) ?? fill[i]) };
}

// COPY text format: \N for null; escape backslash, tab, newline, CR.
const ESC = /[\\\t\n\r]/g;
const escMap = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
export function copyLine(values) {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) s += '\t';
    s += v == null ? '\\N' : String(v).replace(ESC, (m) => escMap[m]);
  }
  return s + '\n';
}

export const pgType = (c) => (c.type === 'USER-DEFINED' ? 'text' : c.type === 'ARRAY' ? 'text[]' : c.type);
export const ident = (s) => `"${s.replace(/"/g, '""')}"`;

// Binary COPY (what the collector sends since decision 0017): per row a field count, then per field
// a byte length (-1 for NULL) and the bytes. timestamptz is microseconds since 2000 (int64), json
// and text their UTF-8 text, jsonb a version byte (1) and the text.
const BINARY_TYPES = new Set(['text', 'json', 'jsonb', 'timestamp with time zone']);
export const COPY_BINARY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** Whether every column can go as binary COPY through {@link copyTuple}. */
export const binaryCopyable = (cols) => cols.every((c) => BINARY_TYPES.has(c.type));

/** One row as a binary COPY tuple, for `cols` (see {@link binaryCopyable}). */
export function copyTuple(values, cols) {
  const parts = [Buffer.from([values.length >> 8, values.length & 255])];
  values.forEach((v, i) => {
    const len = Buffer.alloc(4);
    if (v == null) { len.writeInt32BE(-1); parts.push(len); return; }
    const type = cols[i].type;
    let bytes;
    if (type === 'timestamp with time zone') { bytes = Buffer.alloc(8); bytes.writeBigInt64BE(BigInt(Date.parse(v) - Date.UTC(2000, 0, 1)) * 1000n); }
    else if (type === 'jsonb') bytes = Buffer.concat([Buffer.from([1]), Buffer.from(String(v))]);
    else bytes = Buffer.from(String(v));
    len.writeInt32BE(bytes.length);
    parts.push(len, bytes);
  });
  return Buffer.concat(parts);
}
