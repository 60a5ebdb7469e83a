// Raw write limits measured in the same run as the collector: PostgreSQL COPY
// with 2 connections, and PGlite's fastest in-process insert. Same rows, same
// table shape (the collector's migrations), pre-encoded before the clock
// starts so only the database's work is timed.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { cpuSnapshot, cpuDelta } from './cpu.mjs';
import { loadMigrations, describeEvents, rowMapper, copyLine, copyTuple, binaryCopyable, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, pgType, ident } from './schema.mjs';

export async function loadPGlite(root) {
  const req = createRequire(join(root, 'packages/collector/package.json'));
  const mod = await import(req.resolve('@electric-sql/pglite'));
  return mod.PGlite;
}

/** Value for the tenant column(s), shaped to the column type. */
export function tenantValue(columns) {
  const c = columns.find((c) => /^(project|tenant)(_?id)?$/i.test(c.name));
  if (!c) return 'bench';
  if (c.type === 'uuid') return '00000000-0000-4000-8000-000000000001';
  if (/int/.test(c.type)) return 1;
  return 'bench';
}

async function prepareRows(query, root, events) {
  const { table, columns } = await describeEvents(query);
  const projectId = tenantValue(columns);
  const { cols, skipped, toRow } = rowMapper(columns, { projectId });
  const received = new Date().toISOString();
  const rows = events.map((e) => toRow(e, received));
  return { table, cols, skipped, rows, projectId };
}

async function freshDatabase(adminUrl, name) {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(adminUrl, name) {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/** PostgreSQL COPY FROM STDIN, `connections` in parallel, one COPY (one transaction) each. Best of `runs`. */
export async function pgCopyLimit({ root, adminUrl, events, connections = 2, runs = 2, log = () => {} }) {
  const url = await freshDatabase(adminUrl, 'sightline_bench_raw');
  const setup = new pg.Client(url);
  await setup.connect();
  const migrations = loadMigrations(root);
  for (const sql of migrations.sql) await setup.query(sql);
  const q = async (s, p) => (await setup.query(s, p)).rows;
  const { table, cols, skipped, rows } = await prepareRows(q, root, events);
  log(`  raw table ${table}: ${cols.length} columns written (${cols.map((c) => c.name).join(', ')}); left to defaults: ${skipped.join(', ') || 'none'}`);
  // Binary COPY, as the collector sends, when the columns allow it; else text.
  const binary = binaryCopyable(cols);
  log(`  COPY format: ${binary ? 'binary' : 'text'}`);
  // Pre-encode: one COPY buffer per connection, in 1 MB chunks.
  const parts = Array.from({ length: connections }, () => []);
  rows.forEach((r, i) => parts[i % connections].push(binary ? copyTuple(r, cols) : Buffer.from(copyLine(r))));
  const chunks = parts.map((encoded) => {
    const out = binary ? [COPY_BINARY_HEADER] : [];
    let cur = [];
    let size = 0;
    for (const b of encoded) { cur.push(b); size += b.length; if (size > 1 << 20) { out.push(Buffer.concat(cur)); cur = []; size = 0; } }
    if (cur.length) out.push(Buffer.concat(cur));
    if (binary) out.push(COPY_BINARY_TRAILER);
    return out;
  });
  const clients = [];
  for (let i = 0; i < connections; i++) { const c = new pg.Client(url); await c.connect(); clients.push(c); }
  const copySql = `COPY ${ident(table)} (${cols.map((c) => ident(c.name)).join(', ')}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`;
  let best = 0;
  let bestCpu;
  let stored = 0;
  for (let run = 0; run < runs; run++) {
    await setup.query(`TRUNCATE ${ident(table)}`);
    await setup.query('CHECKPOINT');
    const c0 = cpuSnapshot();
    const t0 = performance.now();
    await Promise.all(clients.map((c, i) => pipeline(Readable.from(chunks[i]), c.query(copyStreams.from(copySql)))));
    const ms = performance.now() - t0;
    const cpu = cpuDelta(c0, cpuSnapshot());
    const evs = events.length / (ms / 1000);
    stored = Number((await setup.query(`SELECT count(*)::int AS n FROM ${ident(table)}`)).rows[0].n);
    log(`  COPY run ${run + 1}: ${events.length} rows in ${ms.toFixed(0)} ms = ${Math.round(evs)} ev/s (stored ${stored}; CPU: postgres ${Math.round((cpu.postgres / cpu.wall) * 100)}%, others ${Math.round((cpu.others / cpu.wall) * 100)}%)`);
    if (evs > best) { best = evs; bestCpu = cpu; }
  }
  for (const c of clients) await c.end();
  await setup.end();
  await dropDatabase(adminUrl, 'sightline_bench_raw');
  return { evs: best, cpu: bestCpu, stored, migrations: migrations.source };
}

/** PGlite in-process: COPY FROM '/dev/blob', unnest and jsonb_to_recordset inserts (or only the method named `only`); returns every variant and the fastest. */
export async function pgliteLimit({ root, events, runs = 1, inMemory = false, only, log = () => {} }) {
  const PGlite = await loadPGlite(root);
  const dir = inMemory ? undefined : mkdtempSync(join(tmpdir(), 'sightline-bench-pglite-'));
  const db = new PGlite(dir);
  await db.waitReady;
  const migrations = loadMigrations(root);
  for (const sql of migrations.sql) await db.exec(sql);
  const q = async (s, p) => (await db.query(s, p)).rows;
  const { table, cols, rows } = await prepareRows(q, root, events);
  const T = ident(table);
  const colList = cols.map((c) => ident(c.name)).join(', ');
  const variants = {};
  const cpus = {};
  const count = async () => Number((await db.query(`SELECT count(*)::int AS n FROM ${T}`)).rows[0].n);

  // 1. COPY from a Blob, 5,000 rows per COPY: text, and binary (as the collector sends) where the columns allow.
  const copyChunks = [];
  for (let i = 0; i < rows.length; i += 5000) copyChunks.push(new Blob([rows.slice(i, i + 5000).map(copyLine).join('')]));
  const binaryChunks = [];
  if (binaryCopyable(cols)) for (let i = 0; i < rows.length; i += 5000) binaryChunks.push(new Blob([COPY_BINARY_HEADER, ...rows.slice(i, i + 5000).map((r) => copyTuple(r, cols)), COPY_BINARY_TRAILER]));
  // 2. unnest: one statement per 500 rows, one array parameter per column.
  const unnestSql = `INSERT INTO ${T} (${colList}) SELECT * FROM unnest(${cols.map((c, i) => `$${i + 1}::${pgType(c)}[]`).join(', ')}) ON CONFLICT DO NOTHING`;
  const unnestParams = [];
  for (let i = 0; i < rows.length; i += 500) {
    const slice = rows.slice(i, i + 500);
    unnestParams.push(cols.map((_, j) => slice.map((r) => r[j])));
  }
  // 3. jsonb_to_recordset: the batch as one jsonb parameter.
  const recSql = `INSERT INTO ${T} (${colList}) SELECT ${cols.map((c) => `x.${ident(c.name)}`).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${cols.map((c) => `${ident(c.name)} ${pgType(c)}`).join(', ')}) ON CONFLICT DO NOTHING`;
  const recParams = [];
  for (let i = 0; i < rows.length; i += 500) {
    recParams.push(JSON.stringify(rows.slice(i, i + 500).map((r) => Object.fromEntries(cols.map((c, j) => [c.name, (cols[j].type === 'jsonb' || cols[j].type === 'json') && r[j] != null ? JSON.parse(r[j]) : r[j]])))));
  }
  const plans = {
    'COPY FROM /dev/blob (5k rows)': async () => { for (const blob of copyChunks) await db.query(`COPY ${T} (${colList}) FROM '/dev/blob'`, [], { blob }); },
    ...(binaryChunks.length ? { 'COPY binary FROM /dev/blob (5k rows)': async () => { for (const blob of binaryChunks) await db.query(`COPY ${T} (${colList}) FROM '/dev/blob' (FORMAT binary)`, [], { blob }); } } : {}),
    'INSERT unnest (500 rows/stmt)': async () => { for (const p of unnestParams) await db.query(unnestSql, p); },
    'INSERT jsonb_to_recordset (500/stmt)': async () => { for (const p of recParams) await db.query(recSql, [p]); },
  };
  for (const [name, fn] of Object.entries(plans)) {
    // `only`: the one method a paired round measures again (see ingest.bench.mjs).
    if (only && name !== only) continue;
    let best = 0;
    for (let run = 0; run < runs; run++) {
      await db.exec(`TRUNCATE ${T}`);
      const c0 = cpuSnapshot();
      const t0 = performance.now();
      try {
        await fn();
      } catch (err) {
        log(`  PGlite ${name}: failed: ${err.message}`);
        best = NaN;
        break;
      }
      const ms = performance.now() - t0;
      const cpu = cpuDelta(c0, cpuSnapshot());
      const n = await count();
      const evs = events.length / (ms / 1000);
      log(`  PGlite ${name}: ${ms.toFixed(0)} ms = ${Math.round(evs)} ev/s (stored ${n}; CPU: node ${Math.round((cpu.loadgen / cpu.wall) * 100)}%, others ${Math.round((cpu.others / cpu.wall) * 100)}%)`);
      if (n === events.length && evs > best) { best = evs; cpus[name] = cpu; }
    }
    variants[name] = best;
  }
  await db.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const [bestName, evs] = Object.entries(variants).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return { evs, bestName, variants, cpu: cpus[bestName], migrations: migrations.source };
}

/**
 * Write strategies on PostgreSQL without HTTP or validation: from parsed
 * events to stored rows, deduplicated by (project_id, message_id), as the
 * collector's writer must. `rowsPerStmt` rows per statement (a group of
 * requests), `connections` statements in flight. Timed from the parsed
 * objects, so each strategy pays its own serialisation.
 */
export async function pgWriteStrategies({ root, adminUrl, events, bodies, rowsPerStmt = 4000, connectionsList = [1, 2], log = () => {} }) {
  const url = await freshDatabase(adminUrl, 'sightline_bench_strategies');
  const setup = new pg.Client(url);
  await setup.connect();
  for (const sql of loadMigrations(root).sql) await setup.query(sql);
  const projectId = 'bench';
  const received = new Date().toISOString();
  const COLS = ['project_id', 'message_id', 'type', 'event', 'name', 'user_id', 'anonymous_id', 'group_id', 'previous_id', 'session_id', 'timestamp', 'sent_at', 'received_at', 'properties', 'traits', 'context'];
  const TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'timestamptz', 'jsonb', 'jsonb', 'jsonb'];
  const rowOf = (e) => [projectId, e.messageId, e.type, e.event ?? null, e.name ?? null, e.userId ?? null, e.anonymousId ?? null, null, null, e.context?.sessionId ?? null, e.timestamp, e.sentAt ?? null, received];
  const chunks = [];
  for (let i = 0; i < events.length; i += rowsPerStmt) chunks.push(events.slice(i, i + rowsPerStmt));

  const unnestSql = `INSERT INTO events (${COLS.join(', ')}) SELECT * FROM unnest(${COLS.map((c, i) => `$${i + 1}::${TYPES[i]}[]`).join(', ')}) ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`;
  const recordsetSql = `INSERT INTO events (${COLS.join(', ')}) SELECT $1, x.m, x.t, x.e, x.n, x.u, x.a, x.g, x.pv, x.s, x.ts, x.sa, $2::timestamptz, coalesce(x.p, '{}'), coalesce(x.tr, '{}'), coalesce(x.c, '{}')
    FROM jsonb_to_recordset($3::jsonb) AS x(m text, t text, e text, n text, u text, a text, g text, pv text, s text, ts timestamptz, sa timestamptz, p jsonb, tr jsonb, c jsonb)
    ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`;

  const strategies = {
    ...(bodies && {
      'request bodies as 1 jsonb param, extracted in SQL': async (c, _evs, i) => {
        const b = bodyStatements(bodies, events.length, rowsPerStmt, projectId, received);
        return (await c.query(b.sql, b.params(i))).rowCount;
      },
    }),
    // The collector's statement: 16 text[] parameters (pg escapes every element), jsonb as text.
    'unnest text[] params': async (c, evs) => {
      const cols = COLS.map(() => new Array(evs.length));
      evs.forEach((e, i) => {
        const r = rowOf(e);
        for (let j = 0; j < 13; j++) cols[j][i] = r[j];
        cols[13][i] = JSON.stringify(e.properties ?? {});
        cols[14][i] = JSON.stringify(e.traits ?? {});
        cols[15][i] = JSON.stringify(e.context ?? {});
      });
      return (await c.query(unnestSql, cols)).rowCount;
    },
    // One jsonb parameter: one JSON.stringify for the whole group, PostgreSQL parses it (in C, in the server process).
    'jsonb_to_recordset, 1 param': async (c, evs) => {
      const json = JSON.stringify(evs.map((e) => ({ m: e.messageId, t: e.type, e: e.event, n: e.name, u: e.userId, a: e.anonymousId, s: e.context?.sessionId, ts: e.timestamp, sa: e.sentAt, p: e.properties, tr: e.traits, c: e.context })));
      return (await c.query(recordsetSql, [projectId, received, json])).rowCount;
    },
    // The same without RETURNING: rowCount says how many were new; only when it is short of the
    // group's size does the writer need to find out which (a rare path: retries).
    'jsonb_to_recordset, no RETURNING': async (c, evs) => {
      const json = JSON.stringify(evs.map((e) => ({ m: e.messageId, t: e.type, e: e.event, n: e.name, u: e.userId, a: e.anonymousId, s: e.context?.sessionId, ts: e.timestamp, sa: e.sentAt, p: e.properties, tr: e.traits, c: e.context })));
      return (await c.query(recordsetSql.replace(' RETURNING message_id', ''), [projectId, received, json])).rowCount;
    },
    // COPY into a per-connection temp table, then one INSERT ... SELECT ... ON CONFLICT, in one transaction.
    'COPY to temp staging + INSERT SELECT': async (c, evs) => {
      if (!c.staging) {
        await c.query('CREATE TEMP TABLE staging (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
        await c.query('ALTER TABLE staging DROP COLUMN seq');
        c.staging = true;
      }
      let text = '';
      for (const e of evs) text += copyLine([...rowOf(e), JSON.stringify(e.properties ?? {}), JSON.stringify(e.traits ?? {}), JSON.stringify(e.context ?? {})]);
      await c.query('BEGIN');
      await pipeline(Readable.from([Buffer.from(text)]), c.query(copyStreams.from(`COPY staging (${COLS.join(', ')}) FROM STDIN`)));
      const r = await c.query(`INSERT INTO events (${COLS.join(', ')}) SELECT ${COLS.join(', ')} FROM staging ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`);
      await c.query('COMMIT');
      return r.rowCount;
    },
  };

  const results = [];
  for (const [name, fn] of Object.entries(strategies)) {
    for (const connections of connectionsList) {
      await setup.query('TRUNCATE events');
      const clients = [];
      for (let i = 0; i < connections; i++) { const c = new pg.Client(url); await c.connect(); clients.push(c); }
      let next = 0;
      let inserted = 0;
      const t0 = performance.now();
      const c0 = cpuSnapshot();
      await Promise.all(clients.map(async (c) => {
        while (next < chunks.length) {
          const i = next++;
          const n = await fn(c, chunks[i], i);
          inserted += n;
        }
      }));
      const ms = performance.now() - t0;
      const cpu = cpuDelta(c0, cpuSnapshot());
      for (const c of clients) await c.end();
      const evs = events.length / (ms / 1000);
      const pct = (v) => `${Math.round((v / cpu.wall) * 100)}%`;
      log(`  ${name}, ${connections} connection(s), ${rowsPerStmt} rows/statement: ${Math.round(evs)} ev/s (inserted ${inserted}; CPU: postgres ${pct(cpu.postgres)}, node ${pct(cpu.loadgen)}, others ${pct(cpu.others)})`);
      results.push({ name, connections, rowsPerStmt, evs, ok: inserted === events.length, cpu });
    }
  }
  await setup.end();
  await dropDatabase(adminUrl, 'sightline_bench_strategies');
  return results;
}

/** The same write strategies on PGlite (in-process, one connection, on-disk dataDir). */
export async function pgliteWriteStrategies({ root, events, bodies, rowsPerStmt = 4000, log = () => {} }) {
  const PGlite = await loadPGlite(root);
  const dir = mkdtempSync(join(tmpdir(), 'sightline-bench-pglite-'));
  const db = new PGlite(dir);
  await db.waitReady;
  for (const sql of loadMigrations(root).sql) await db.exec(sql);
  await db.exec('CREATE TEMP TABLE staging (LIKE events INCLUDING DEFAULTS); ALTER TABLE staging DROP COLUMN seq;');
  const projectId = 'bench';
  const received = new Date().toISOString();
  const COLS = ['project_id', 'message_id', 'type', 'event', 'name', 'user_id', 'anonymous_id', 'group_id', 'previous_id', 'session_id', 'timestamp', 'sent_at', 'received_at', 'properties', 'traits', 'context'];
  const TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'timestamptz', 'jsonb', 'jsonb', 'jsonb'];
  const rowOf = (e) => [projectId, e.messageId, e.type, e.event ?? null, e.name ?? null, e.userId ?? null, e.anonymousId ?? null, null, null, e.context?.sessionId ?? null, e.timestamp, e.sentAt ?? null, received];
  const json3 = (e) => [JSON.stringify(e.properties ?? {}), JSON.stringify(e.traits ?? {}), JSON.stringify(e.context ?? {})];
  const chunks = [];
  for (let i = 0; i < events.length; i += rowsPerStmt) chunks.push(events.slice(i, i + rowsPerStmt));
  const unnestSql = `INSERT INTO events (${COLS.join(', ')}) SELECT * FROM unnest(${COLS.map((c, i) => `$${i + 1}::${TYPES[i]}[]`).join(', ')}) ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`;
  const recordsetSql = `INSERT INTO events (${COLS.join(', ')}) SELECT $1, x.m, x.t, x.e, x.n, x.u, x.a, x.g, x.pv, x.s, x.ts, x.sa, $2::timestamptz, coalesce(x.p, '{}'), coalesce(x.tr, '{}'), coalesce(x.c, '{}')
    FROM jsonb_to_recordset($3::jsonb) AS x(m text, t text, e text, n text, u text, a text, g text, pv text, s text, ts timestamptz, sa timestamptz, p jsonb, tr jsonb, c jsonb)
    ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`;
  const strategies = {
    ...(bodies && {
      'request bodies as 1 jsonb param, extracted in SQL': async (_evs, i) => {
        const b = bodyStatements(bodies, events.length, rowsPerStmt, projectId, received);
        return (await db.query(b.sql, b.params(i))).rows.length;
      },
    }),
    'unnest text[] params': async (evs) => {
      const cols = COLS.map(() => new Array(evs.length));
      evs.forEach((e, i) => { const r = [...rowOf(e), ...json3(e)]; for (let j = 0; j < 16; j++) cols[j][i] = r[j]; });
      return (await db.query(unnestSql, cols)).rows.length;
    },
    'jsonb_to_recordset, 1 param': async (evs) => {
      const json = JSON.stringify(evs.map((e) => ({ m: e.messageId, t: e.type, e: e.event, n: e.name, u: e.userId, a: e.anonymousId, s: e.context?.sessionId, ts: e.timestamp, sa: e.sentAt, p: e.properties, tr: e.traits, c: e.context })));
      return (await db.query(recordsetSql, [projectId, received, json])).rows.length;
    },
    'COPY /dev/blob to temp staging + INSERT SELECT': async (evs) => {
      let text = '';
      for (const e of evs) text += copyLine([...rowOf(e), ...json3(e)]);
      return db.transaction(async (tx) => {
        await tx.query(`COPY staging (${COLS.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([text]) });
        const r = await tx.query(`INSERT INTO events (${COLS.join(', ')}) SELECT ${COLS.join(', ')} FROM staging ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`);
        await tx.query('TRUNCATE staging');
        return r.rows.length;
      });
    },
  };
  const results = [];
  for (const [name, fn] of Object.entries(strategies)) {
    await db.exec('TRUNCATE events');
    let inserted = 0;
    const c0 = cpuSnapshot();
    const t0 = performance.now();
    try {
      for (let i = 0; i < chunks.length; i++) inserted += await fn(chunks[i], i);
    } catch (err) {
      log(`  PGlite ${name}: failed: ${err.message}`);
      continue;
    }
    const ms = performance.now() - t0;
    const cpu = cpuDelta(c0, cpuSnapshot());
    const evs = events.length / (ms / 1000);
    log(`  PGlite ${name}, ${rowsPerStmt} rows/statement: ${Math.round(evs)} ev/s (inserted ${inserted}; CPU: node ${Math.round((cpu.loadgen / cpu.wall) * 100)}%, others ${Math.round((cpu.others / cpu.wall) * 100)}%)`);
    results.push({ name, connections: 1, rowsPerStmt, evs, ok: inserted === events.length, cpu });
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return results;
}

/**
 * No re-serialisation at all: the request bodies exactly as received, joined
 * into one jsonb parameter; PostgreSQL parses them once and extracts the
 * columns. (A collector would still JSON.parse to validate, and would pass the
 * indexes of the valid events and any normalised values alongside.)
 * Returns the SQL and the parameters of statement i (chunks of rowsPerStmt events).
 */
function bodyStatements(bodies, nEvents, rowsPerStmt, projectId, received) {
  const perStmt = Math.max(1, Math.round(rowsPerStmt / (nEvents / bodies.length)));
  const sql = `INSERT INTO events (project_id, message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, session_id, timestamp, sent_at, received_at, properties, traits, context)
    SELECT $1, e->>'messageId', e->>'type', e->>'event', e->>'name', e->>'userId', e->>'anonymousId', e->>'groupId', e->>'previousId', e->'context'->>'sessionId',
      (e->>'timestamp')::timestamptz, (e->>'sentAt')::timestamptz, $2::timestamptz, coalesce(e->'properties', '{}'), coalesce(e->'traits', '{}'), coalesce(e->'context', '{}')
    FROM jsonb_array_elements($3::jsonb) AS b, jsonb_array_elements(b->'batch') AS e
    ON CONFLICT (project_id, message_id) DO NOTHING RETURNING message_id`;
  return { sql, params: (i) => [projectId, received, '[' + bodies.slice(i * perStmt, (i + 1) * perStmt).join(',') + ']'] };
}
