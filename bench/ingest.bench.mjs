// Collector ingest on this 2-core machine: 500-event batches, 8 requests in
// flight, as a fraction of the raw limits measured in the same run
// (PostgreSQL COPY with 2 connections, PGlite's fastest in-process insert).
import { existsSync, mkdtempSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { makeBatches } from './lib/events.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { pgCopyLimit, pgliteLimit, loadPGlite, dropDatabase, pgWriteStrategies, pgliteWriteStrategies } from './lib/raw.mjs';
import { startCollector } from './lib/collector.mjs';
import { buildCollectorCopy } from './lib/collectorBuild.mjs';
import { drive } from './lib/load.mjs';
import { cpuSnapshot, cpuDelta } from './lib/cpu.mjs';
import { quantile, table, fmt } from './lib/stats.mjs';
import { summarizeProfile } from './lib/cpuprofile.mjs';
import { ingestMicro } from './lib/ingestMicro.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const WRITE_KEY = 'bench-write-key';
const READ_TOKEN = 'bench-read-token';
const BATCH = 500;
const IN_FLIGHT = 8;

async function countPg(url) {
  const c = new pg.Client(url);
  await c.connect();
  const { rows } = await c.query('SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM events');
  await c.end();
  return rows[0];
}

async function countPglite(dataDir) {
  const PGlite = await loadPGlite(root);
  const db = new PGlite(dataDir);
  await db.waitReady;
  const { rows } = await db.query('SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM events');
  await db.close();
  return rows[0];
}

/** One collector run: warm-up batches, then the measured ones; then count what was stored. */
export async function collectorRun({ backend, adminUrl, warm, measured, log, cpuProfDir, cli, label = backend }) {
  let databaseUrl;
  let dataDir;
  const dbName = 'sightline_bench_collector';
  if (backend === 'postgres') {
    const admin = new pg.Client(adminUrl);
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'sightline-bench-collector-'));
  }
  const collector = await startCollector({ root, writeKey: WRITE_KEY, readToken: READ_TOKEN, databaseUrl, dataDir, cpuProfDir, cli });
  let res;
  let cpu;
  const window = {};
  try {
    const w = await drive({ url: collector.url, writeKey: WRITE_KEY, bodies: warm.map((b) => b.body), inFlight: IN_FLIGHT });
    if (w.failures) log(`  ${label}: warm-up: ${w.failures} failed requests, first: ${w.firstError}`);
    const c0 = cpuSnapshot(collector.pid);
    // CLOCK_MONOTONIC in us, the clock of the .cpuprofile's timestamps: keeps start-up and warm-up out of the profile.
    window.from = Number(process.hrtime.bigint() / 1000n);
    res = await drive({ url: collector.url, writeKey: WRITE_KEY, bodies: measured.map((b) => b.body), inFlight: IN_FLIGHT });
    window.to = Number(process.hrtime.bigint() / 1000n);
    cpu = cpuDelta(c0, cpuSnapshot(collector.pid));
    // A client retrying batches that were stored (lost answers): all duplicates, nothing stored twice.
    const again = await drive({ url: collector.url, writeKey: WRITE_KEY, bodies: measured.slice(0, IN_FLIGHT).map((b) => b.body), inFlight: IN_FLIGHT });
    res.retried = { sent: IN_FLIGHT * BATCH, accepted: again.accepted, duplicates: again.duplicates, failures: again.failures };
    res.accepted += w.accepted;
    res.duplicates += w.duplicates;
    res.failures += w.failures + again.failures;
    res.firstError ??= w.firstError ?? again.firstError;
  } finally {
    await collector.stop();
  }
  const sent = (warm.length + measured.length) * BATCH;
  const stored = backend === 'postgres' ? await countPg(databaseUrl) : await countPglite(dataDir);
  if (backend === 'postgres') await dropDatabase(adminUrl, dbName);
  else rmSync(dataDir, { recursive: true, force: true });
  const events = measured.length * BATCH;
  const out = {
    evs: events / (res.ms / 1000),
    p50: quantile(res.latencies, 0.5),
    p95: quantile(res.latencies, 0.95),
    p99: quantile(res.latencies, 0.99),
    mean: res.latencies.reduce((a, b) => a + b, 0) / res.latencies.length,
    sent,
    accepted: res.accepted,
    duplicates: res.duplicates,
    failures: res.failures,
    stored: stored.n,
    distinct: stored.d,
    retried: res.retried,
    exactlyOnce: stored.n === sent && stored.d === sent && res.accepted === sent && res.failures === 0 && res.retried.accepted === 0 && res.retried.duplicates === res.retried.sent,
    statuses: res.statuses,
    cpu,
    // CPU per stored event: steadier than ev/s when other work shares the cores.
    usPerEvent: { collector: (cpu.collector * 1e6) / events, postgres: (cpu.postgres * 1e6) / events, loadgen: (cpu.loadgen * 1e6) / events },
    runner: collector.runner,
    window,
  };
  log(`  ${label}: ${fmt(out.evs)} ev/s, batch p50 ${out.p50.toFixed(1)} ms p95 ${out.p95.toFixed(1)} ms p99 ${out.p99.toFixed(1)} ms; sent ${sent}, accepted ${out.accepted}, stored ${out.stored} (distinct ${out.distinct}), failures ${out.failures}${res.firstError ? ` (${res.firstError})` : ''}; ${res.retried.sent} resent: ${res.retried.duplicates} duplicates, ${res.retried.accepted} accepted`);
  log(`  ${label}: CPU over ${cpu.wall.toFixed(2)} s: collector ${(cpu.collector / cpu.wall * 100).toFixed(0)}%, postgres ${(cpu.postgres / cpu.wall * 100).toFixed(0)}%, load generator ${(cpu.loadgen / cpu.wall * 100).toFixed(0)}%, other processes ${(cpu.others / cpu.wall * 100).toFixed(0)}% (of 200%); per event: collector ${out.usPerEvent.collector.toFixed(1)} us, postgres ${out.usPerEvent.postgres.toFixed(1)} us`);
  return out;
}

/**
 * Alternative write paths: each bench/proto/*.eventWriter.ts replaces
 * src/eventWriter.ts in a bundled copy of the collector (packages/collector
 * is never touched), measured against the current writer in the same loop.
 */
async function runVariants({ adminUrl, warm, measured, quick, log, limits, cli }) {
  const protoDir = join(here, 'proto');
  const files = existsSync(protoDir) ? readdirSync(protoDir).filter((f) => f.endsWith('.eventWriter.ts')).sort() : [];
  const writers = [{ name: 'current (packages/collector)', cli }];
  for (const f of files) {
    const name = f.replace('.eventWriter.ts', '');
    writers.push({ name, cli: await buildCollectorCopy({ root, name: `collector-${name}`, writer: join(protoDir, f) }) });
  }
  const rows = [];
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    for (const w of writers) {
      for (const backend of ['postgres', 'pglite']) {
        log(`ingest: writer variant "${w.name}" on ${backend}, round ${round + 1}`);
        const r = await collectorRun({ backend, adminUrl, warm, measured: backend === 'pglite' ? measured.slice(0, quick ? 30 : 80) : measured, log, cli: w.cli, label: `${w.name} / ${backend}` });
        const prev = rows.find((x) => x.writer === w.name && x.backend === backend);
        if (!prev) rows.push({ writer: w.name, backend, limit: limits[backend], ...r });
        else if (r.evs > prev.evs) Object.assign(prev, r, { exactlyOnce: prev.exactlyOnce && r.exactlyOnce });
        else prev.exactlyOnce &&= r.exactlyOnce;
      }
    }
  }
  return rows;
}

// This VM's speed drifts within one run (the JSON round trip has gone from 4.7 to 8.4 us between
// the start and the end of a bench): a raw limit measured in a fast minute and a collector run in
// a slow one give a ratio that says nothing. So each round measures the raw limit and then the
// collector, back to back, and the round with the median ratio (the lower one of two) is reported.
async function pairedRounds({ n, raw, run, label, log }) {
  const rounds = [];
  for (let i = 0; i < n; i++) {
    const limit = await raw();
    const r = await run();
    rounds.push({ raw: limit, run: r, ratio: r.evs / limit.evs });
    log(`  ${label}, round ${i + 1}: raw limit ${fmt(limit.evs)} ev/s, collector ${fmt(r.evs)} ev/s, ratio ${fmt(r.evs / limit.evs, 2)}, batch p95 ${fmt(r.p95, 1)} ms`);
  }
  const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor((n - 1) / 2)];
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((n - 1) / 2)];
  // Latencies: the median of each quantile over the rounds (the lower one of two), not the median round's.
  const latency = { p50: middle(rounds.map((x) => x.run.p50)), p95: middle(rounds.map((x) => x.run.p95)), p99: middle(rounds.map((x) => x.run.p99)) };
  return { raw: median.raw, run: { ...median.run, ...latency, roundP95: median.run.p95, exactlyOnce: rounds.every((x) => x.run.exactlyOnce), runs: n }, rounds };
}

export async function runIngest({ quick = false, profile = false, variants = false, log = console.log, outDir = join(here, '.out') } = {}) {
  // The collector's current source, bundled as tsup would (see lib/collectorBuild.mjs).
  const cli = await buildCollectorCopy({ root });
  const nMeasured = quick ? 60 : 200;
  const nWarm = quick ? 8 : 16;
  const t = performance.now();
  const { batches, avgEventBytes } = makeBatches(nWarm + nMeasured, BATCH);
  const warm = batches.slice(0, nWarm);
  const measured = batches.slice(nWarm);
  const events = batches.flatMap((b) => b.events);
  log(`ingest: ${batches.length} batches x ${BATCH} events (${nWarm} warm-up), ${avgEventBytes} B/event, ${(batches[0].body.length / 1024).toFixed(0)} KB/body, generated in ${(performance.now() - t).toFixed(0)} ms`);

  const server = await startPostgres(root);
  log(`ingest: PostgreSQL from ${server.source}`);
  const result = { avgEventBytes, batches: batches.length, measuredBatches: nMeasured, liteBatches: quick ? 30 : 80, inFlight: IN_FLIGHT, rows: [], profiles: {} };
  try {
    // Every raw method on PGlite (best of 2), for the table of variants; the rounds repeat the fastest.
    log('ingest: raw limits on PGlite in-process, every method (on-disk dataDir, as the collector runs it)');
    const liteEvents = events.slice(0, quick ? 20000 : 40000);
    const liteAll = await pgliteLimit({ root, events: liteEvents, runs: quick ? 1 : 2, log });
    if (!quick && cli) {
      log('ingest: CPU per event of each step of the collector path, in isolation');
      result.micro = await ingestMicro({ root, batches, log: () => {} });
    }
    if (!quick) {
      log('ingest: write strategies on PostgreSQL without HTTP (parsed events to deduplicated rows, 4,000 rows/statement)');
      // 120 bodies = 60,000 events; the body strategy needs whole requests.
      const onPg = await pgWriteStrategies({ root, adminUrl: server.url, events: events.slice(0, 60000), bodies: batches.slice(0, 120).map((b) => b.body.toString()), log });
      log('ingest: the same on PGlite (4,000 rows/statement)');
      const onLite = await pgliteWriteStrategies({ root, events: events.slice(0, 40000), bodies: batches.slice(0, 80).map((b) => b.body.toString()), log });
      result.strategies = [...onPg.map((x) => ({ ...x, backend: 'PostgreSQL' })), ...onLite.map((x) => ({ ...x, backend: 'PGlite' }))];
    }
    const rounds = quick ? 1 : 3;
    // Best of 2 back to back: the first COPY into a fresh database or PGlite instance runs cold.
    const pgRaw = () => pgCopyLimit({ root, adminUrl: server.url, events, connections: 2, runs: 2, log });
    if (!(liteAll.evs > 0)) throw new Error('every raw method on PGlite failed (see above): no limit to compare with');
    const liteRaw = async () => {
      const r = await pgliteLimit({ root, events: liteEvents, runs: 2, only: liteAll.bestName, log });
      return { ...r, variants: liteAll.variants };
    };
    let pg;
    let lite;
    if (cli) {
      log(`ingest: PostgreSQL, ${rounds} round(s) of raw limit (COPY FROM STDIN, 2 connections) then the collector (packages/collector/src bundled to ${cli.replace(root + '/', '')})`);
      pg = await pairedRounds({ n: rounds, raw: pgRaw, run: () => collectorRun({ backend: 'postgres', adminUrl: server.url, warm, measured, log, cli }), label: 'PostgreSQL', log });
      log(`ingest: PGlite, ${rounds} round(s) of raw limit (${liteAll.bestName}) then the collector`);
      lite = await pairedRounds({ n: rounds, raw: liteRaw, run: () => collectorRun({ backend: 'pglite', warm, measured: quick ? measured.slice(0, 30) : measured.slice(0, 80), log, cli }), label: 'PGlite', log });
      if (variants) result.variants = await runVariants({ adminUrl: server.url, warm, measured, quick, log, limits: { postgres: pg.raw.evs, pglite: lite.raw.evs }, cli });
      if (profile) {
        mkdirSync(outDir, { recursive: true });
        for (const backend of ['postgres', 'pglite']) {
          const dir = mkdtempSync(join(outDir, `cpuprof-${backend}-`));
          log(`ingest: profiling the collector on ${backend} (node --cpu-prof, ${dir.replace(root + '/', '')})`);
          const run = await collectorRun({ backend, adminUrl: server.url, warm, measured: backend === 'pglite' ? measured.slice(0, 80) : measured, log, cli, cpuProfDir: dir, label: `${backend} (profiled)` });
          const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
          if (file) result.profiles[backend] = { file: join(dir, file), summary: summarizeProfile(join(dir, file), root, run.window) };
        }
      }
    } else {
      log('ingest: the collector is not there yet (packages/collector/src/cli.ts); only the raw limits are measured.');
      pg = { raw: await pgRaw() };
      lite = { raw: await liteRaw() };
    }
    result.raw = { copy: pg.raw, lite: lite.raw };
    // The strategies as fractions of the raw limits the table reports.
    for (const x of result.strategies ?? []) x.limit = x.backend === 'PGlite' ? lite.raw.evs : pg.raw.evs;
    result.rows.push({ backend: 'PostgreSQL 15', rawName: 'COPY, 2 connections', raw: pg.raw.evs, rawCpu: pg.raw.cpu, run: pg.run, rounds: pg.rounds, target: 0.5 });
    result.rows.push({ backend: 'PGlite 0.5', rawName: liteAll.bestName, raw: lite.raw.evs, rawCpu: lite.raw.cpu, run: lite.run, rounds: lite.rounds, target: 0.6, variants: liteAll.variants });
  } finally {
    await server.stop();
  }
  printIngest(result, log);
  return result;
}

const pct = (v, wall) => `${Math.round((v / wall) * 100)}%`;

export function printIngest(r, log = console.log) {
  log('');
  const runs = r.rows[0]?.run?.runs ?? 1;
  log(`Collector ingest: ${r.measuredBatches} batches x 500 events on PostgreSQL (PGlite: ${r.liteBatches}), ${r.inFlight} requests in flight, ${r.avgEventBytes} B/event, ${runs > 1 ? `the median of ${runs} rounds of raw limit then collector` : '1 round of raw limit then collector'}; load generator, collector and database share 2 cores`);
  log(table([
    ['backend', 'raw limit (method)', 'raw ev/s', 'others during raw', 'collector ev/s', 'ratio', 'target', 'p50 ms', 'p95 ms', 'p99 ms', 'stored == sent (exactly once)', 'collector run CPU: collector / postgres / others', 'CPU us/event: collector / postgres'],
    ...r.rows.map((x) => [
      x.backend, x.rawName, fmt(x.raw), x.rawCpu ? pct(x.rawCpu.others, x.rawCpu.wall) : 'n/a', x.run ? fmt(x.run.evs) : 'n/a', x.run ? fmt(x.run.evs / x.raw, 2) : 'n/a', `>= ${x.target}`,
      x.run ? fmt(x.run.p50, 1) : 'n/a', x.run ? fmt(x.run.p95, 1) : 'n/a', x.run ? fmt(x.run.p99, 1) : 'n/a',
      x.run ? `${x.run.exactlyOnce ? 'yes' : 'NO'} (${fmt(x.run.stored)}/${fmt(x.run.sent)})` : 'n/a',
      x.run ? `${pct(x.run.cpu.collector, x.run.cpu.wall)} / ${pct(x.run.cpu.postgres, x.run.cpu.wall)} / ${pct(x.run.cpu.others, x.run.cpu.wall)}` : 'n/a',
      x.run?.usPerEvent ? `${fmt(x.run.usPerEvent.collector, 1)} / ${fmt(x.run.usPerEvent.postgres, 1)}` : 'n/a',
    ]),
  ]));
  if (r.strategies) {
    log('');
    log(`Write strategies without HTTP: parsed events to deduplicated rows (ON CONFLICT DO NOTHING), ${r.strategies[0].rowsPerStmt} rows/statement, timed from parsed objects (each pays its own serialisation)`);
    log(table([
      ['backend', 'strategy', 'connections', 'ev/s', 'of raw limit', 'postgres CPU', 'node CPU', 'other processes CPU'],
      ...r.strategies.map((x) => [x.backend, x.name, x.connections, fmt(x.evs), fmt(x.evs / x.limit, 2), x.backend === 'PGlite' ? '(in node)' : pct(x.cpu.postgres, x.cpu.wall), pct(x.cpu.loadgen, x.cpu.wall), pct(x.cpu.others, x.cpu.wall)]),
    ]));
  }
  if (r.variants?.length) {
    log('');
    log('Write-path variants (bench/proto/*.eventWriter.ts swapped into a bundled copy of the collector; fastest of the rounds):');
    log(table([
      ['writer', 'backend', 'collector ev/s', 'ratio to raw limit', 'p50 ms', 'p95 ms', 'stored == sent', 'CPU collector / postgres / others'],
      ...r.variants.map((x) => [x.writer, x.backend, fmt(x.evs), fmt(x.evs / x.limit, 2), fmt(x.p50, 1), fmt(x.p95, 1), `${x.exactlyOnce ? 'yes' : 'NO'} (${fmt(x.stored)}/${fmt(x.sent)})`, `${pct(x.cpu.collector, x.cpu.wall)} / ${pct(x.cpu.postgres, x.cpu.wall)} / ${pct(x.cpu.others, x.cpu.wall)}`]),
    ]));
  }
  if (r.micro) {
    log('');
    log('Collector ingest path, CPU per event of each step in isolation (process CPU time, best of 5 loops; packages/collector/src functions):');
    log(table([['step', 'us/event'], ...Object.entries(r.micro).map(([k, v]) => [k, fmt(v, 2)])]));
  }
  const lite = r.rows.find((x) => x.variants);
  if (lite) log('PGlite raw variants: ' + Object.entries(lite.variants).map(([k, v]) => `${k} ${fmt(v)} ev/s`).join('; '));
  for (const x of r.rows) {
    if (x.rounds?.length > 1) log(`${x.backend}, each round (raw limit, then the collector, back to back): ${x.rounds.map((o) => `ratio ${fmt(o.ratio, 2)} at p95 ${fmt(o.run.p95, 1)} ms`).join('; ')}. The table shows the round with the median ratio, and the median of each latency quantile over the rounds.`);
  }
  // With a fixed number of requests in flight the mean latency is set by the throughput (Little's
  // law): only a faster collector, or a tighter spread around the mean, lowers the p95.
  for (const x of r.rows) {
    if (!x.run?.mean) continue;
    const inFlight = r.inFlight * 500;
    // This round's own p95 (the table's p95 is the median over the rounds).
    const spread = (x.run.roundP95 ?? x.run.p95) / x.run.mean;
    log(`${x.backend}: mean batch latency ${fmt(x.run.mean, 1)} ms = ${fmt(inFlight)} events in flight / ${fmt(x.run.evs)} ev/s (Little's law); p95 is ${fmt(spread, 2)} x the mean, so p95 < 100 ms needs about ${fmt((inFlight * spread * 1000) / 100)} ev/s at this spread (raw limit ${fmt(x.raw)}).`);
    // Where the PostgreSQL ratio comes from: the raw limit gives both cores to the database (2 / p
    // events per us), the collector run shares the U cores it keeps busy among c + p + l.
    const { usPerEvent: us, cpu } = x.run;
    if (x.backend.startsWith('PostgreSQL') && us?.loadgen !== undefined && cpu?.wall > 0) {
      const busy = (cpu.collector + cpu.postgres + cpu.loadgen) / cpu.wall;
      const model = (busy * us.postgres) / (2 * (us.collector + us.postgres + us.loadgen));
      log(`${x.backend}: CPU per event: collector ${fmt(us.collector, 1)} + database ${fmt(us.postgres, 1)} + load generator ${fmt(us.loadgen, 1)} us, ${fmt(busy, 2)} of 2 cores busy; ratio ~ busy x database / (2 x sum) = ${fmt(model, 2)} (measured ${fmt(x.run.evs / x.raw, 2)}).`);
    }
  }
  log('CPU in % of one core (the machine has 200%); "others" is whatever else ran meanwhile: above ~20% the figures are disturbed.');
  log('Targets: ratio >= 0.5 of PostgreSQL COPY, >= 0.6 of PGlite; p95 per batch < 100 ms; every accepted event stored exactly once.');
  for (const [backend, p] of Object.entries(r.profiles ?? {})) {
    log('');
    log(`CPU profile of the collector on ${backend}: ${p.file}`);
    log(p.summary);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runIngest({ quick: process.argv.includes('--quick'), profile: process.argv.includes('--profile'), variants: process.argv.includes('--variants') }).catch((e) => { console.error(e); process.exit(1); });
}
