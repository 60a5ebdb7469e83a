// Realtime (issue #4, Proof): the real @sightline/realtime client (built
// dist, `ws` as its WebSocket, DEFAULT timings) against the real collector in
// a child process on PGlite, through a TCP proxy per client that blocks
// WebSocket upgrades while plain HTTP (long polling) goes through.
//   - failover: client creation + subscribe('events') to the first message
//     delivered by polling, while one event is ingested every 100 ms
//   - time back: the block lifted, until the client's state is `open` again
//   - messages/s through one socket, and through long polling
//   - size: min+gzip of createRealtimeClient vs reconnecting-websocket alone
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startCollector } from './lib/collector.mjs';
import { buildCollectorCopy } from './lib/collectorBuild.mjs';
import { makeBatches, makeEvent, rng } from './lib/events.mjs';
import { drive } from './lib/load.mjs';
import { fmt, median, table } from './lib/stats.mjs';
import { startWsProxy } from './lib/wsProxy.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const WRITE_KEY = 'bench-write-key';
const READ_TOKEN = 'bench-read-token';
const REPS = 5;
const PUBLISH_EVERY_MS = 100;
const TARGET = { failoverMs: 3000, backMs: 30000, sizeOverBytes: 3000 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, timeoutMs, what) {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** The built client (packages/realtime/dist), built first when missing or older than its sources. */
async function loadClient(log) {
  const pkg = join(root, 'packages/realtime');
  const dist = join(pkg, 'dist/index.js');
  const newest = (dir) => Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, f)).mtimeMs));
  if (!existsSync(dist) || newest(join(pkg, 'src')) > statSync(dist).mtimeMs) {
    log('realtime: building @sightline/realtime (dist missing or older than src)');
    execFileSync('pnpm', ['--filter', '@sightline/realtime', 'build'], { cwd: root, stdio: 'ignore' });
  }
  const { createRealtimeClient } = await import(pathToFileURL(dist).href);
  const WebSocket = createRequire(join(pkg, 'package.json'))('ws');
  return { createRealtimeClient, WebSocket };
}

/** size-limit's own figures (.size-limit.json: esbuild, min+gzip); esbuild + gzip -9 here if it cannot run. */
async function measureSize() {
  const bin = join(root, 'node_modules/.bin/size-limit');
  const fromSizeLimit = await new Promise((resolve) => {
    execFile(bin, ['--json'], { cwd: root, timeout: 60000 }, (_err, stdout) => {
      try {
        const rows = JSON.parse(stdout);
        const client = rows.find((r) => r.name === 'realtime: createRealtimeClient');
        const rws = rows.find((r) => r.name === 'realtime: reconnecting-websocket alone');
        resolve(client?.size && rws?.size ? { method: 'size-limit --json (esbuild, minified, gzip)', client: client.size, rws: rws.size } : null);
      } catch {
        resolve(null);
      }
    });
  });
  if (fromSizeLimit) return fromSizeLimit;
  const { build } = await import('esbuild');
  const bundle = async (contents) => {
    const r = await build({ stdin: { contents, resolveDir: root }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    return gzipSync(r.outputFiles[0].contents, { level: 9 }).length;
  };
  return {
    method: 'esbuild (bundle, minify, esm) + gzip -9',
    client: await bundle(`export { createRealtimeClient } from './packages/realtime/dist/index.js';`),
    rws: await bundle(`export { default } from './packages/realtime/node_modules/reconnecting-websocket/dist/reconnecting-websocket-mjs.js';`),
  };
}

/** One event every `everyMs`, one per request, straight to the collector (not through a proxy). */
function startPublisher(url, everyMs) {
  const r = rng(7);
  const auth = 'Basic ' + Buffer.from(WRITE_KEY + ':').toString('base64');
  let i = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    let next = performance.now();
    while (running) {
      const body = JSON.stringify({ batch: [makeEvent(r, i++, Date.now())] });
      fetch(`${url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body })
        .then((res) => (res.ok ? res.arrayBuffer() : (failures++, res.arrayBuffer())))
        .catch(() => failures++);
      next += everyMs;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  return { stats: () => ({ sent: i, failures }), stop: async () => ((running = false), await loop) };
}

/** A real client subscribed to `events`, with what it saw and when. */
function watchClient(lib, url) {
  const t0 = performance.now();
  const rec = { t0, states: [], seqs: [], stream: [], resets: 0, errors: [], firstAt: undefined, firstState: undefined, lastAt: undefined, openAt: [] };
  const client = lib.createRealtimeClient({ url, getToken: () => READ_TOKEN, WebSocket: lib.WebSocket, onError: (e) => rec.errors.push(e.code + (e.closeCode ? ' ' + e.closeCode : '') + (e.status ? ' ' + e.status : '')) });
  client.on('state', (state, reason) => {
    const at = performance.now();
    rec.states.push([Math.round(at - t0), state, reason]);
    if (state === 'open') rec.openAt.push(at);
  });
  client.subscribe('events', (e) => {
    if (e.type === 'message') {
      const at = performance.now();
      rec.seqs.push(e.seq);
      rec.stream.push(e.seq);
      rec.lastAt = at;
      if (rec.firstAt === undefined) (rec.firstAt = at), (rec.firstState = client.state);
    } else if (e.type === 'reset') rec.resets++, rec.stream.push('reset');
    else rec.errors.push(`channel ${e.code}`);
  });
  return { client, rec };
}

/** Every seq once, in order, without a gap; a `reset` (explicit, allowed) starts a new run. */
function continuity(stream) {
  let gaps = 0;
  let repeats = 0;
  let prev;
  for (const x of stream) {
    if (x === 'reset') prev = undefined;
    else if (prev !== undefined && x <= prev) repeats++;
    else if (prev !== undefined && x !== prev + 1) gaps++;
    if (x !== 'reset') prev = x;
  }
  return { gaps, repeats };
}

/** Failover with the upgrade refused (or held), then time back once the block is lifted. */
async function failoverRun({ lib, collectorUrl, mode, unblock, log }) {
  const proxy = await startWsProxy({ target: collectorUrl, mode });
  const { client, rec } = watchClient(lib, proxy.url);
  const out = { mode, unblock: unblock?.name ?? null };
  try {
    await waitFor(() => rec.firstAt !== undefined, 20000, `the first message (${mode})`);
    out.failoverMs = rec.firstAt - rec.t0;
    out.firstState = rec.firstState;
    out.pollingAtMs = rec.states.find(([, s]) => s === 'polling')?.[0];
    if (unblock) {
      await unblock.wait(proxy);
      out.attemptsBeforeUnblock = proxy.stats.refused + proxy.stats.held;
      const at = performance.now();
      proxy.setMode('open');
      await waitFor(() => rec.openAt.some((t) => t >= at), 60000, 'the socket back');
      out.backMs = rec.openAt.find((t) => t >= at) - at;
      // A second of the stream after the switch: no gap, no repeat across it.
      await sleep(1000);
    }
  } finally {
    client.close();
    await proxy.close();
  }
  Object.assign(out, continuity(rec.stream), { messages: rec.seqs.length, resets: rec.resets, states: rec.states.map(([t, s, r]) => `${t}:${s}(${r})`).join(' ') });
  log(`  ${mode}${unblock ? `, unblocked ${unblock.name}` : ''}: first message by ${out.firstState} after ${fmt(out.failoverMs)} ms${unblock ? `; ${out.attemptsBeforeUnblock} upgrades blocked, socket back ${fmt(out.backMs)} ms after the unblock` : ''}; ${out.messages} messages, gaps ${out.gaps}, repeats ${out.repeats}, resets ${out.resets}`);
  return out;
}

/** `n` events in 500-event batches, 8 requests in flight; delivery at one subscriber. */
async function throughputRun({ lib, collectorUrl, transport, batches, inFlight = 8, log }) {
  const proxy = transport === 'polling' ? await startWsProxy({ target: collectorUrl, mode: 'refuse' }) : null;
  const { client, rec } = watchClient(lib, proxy?.url ?? collectorUrl);
  const n = batches.length * 500;
  try {
    await waitFor(() => client.state === (transport === 'polling' ? 'polling' : 'open') && client.cursor('events') !== undefined, 20000, `${transport} subscribed`);
    // A poll may be on its way with the old cursor: let it settle.
    await sleep(300);
    const before = rec.seqs.length;
    const streamBefore = rec.stream.length;
    const resetsBefore = rec.resets;
    const t0 = performance.now();
    const ingest = await drive({ url: collectorUrl, writeKey: WRITE_KEY, bodies: batches.map((b) => b.body), inFlight });
    const ingestEnd = performance.now();
    let seen = rec.seqs.length;
    let progressAt = performance.now();
    while (rec.seqs.length - before < n && performance.now() - progressAt < 3000) {
      await sleep(20);
      if (rec.seqs.length !== seen) (seen = rec.seqs.length), (progressAt = performance.now());
    }
    const delivered = rec.seqs.length - before;
    const c = continuity(rec.stream.slice(streamBefore));
    const out = {
      transport,
      inFlight,
      sent: n,
      accepted: ingest.accepted,
      failures: ingest.failures,
      delivered,
      ...c,
      resets: rec.resets - resetsBefore,
      ingestEvs: ingest.accepted / ((ingestEnd - t0) / 1000),
      msgs: delivered / ((rec.lastAt - t0) / 1000),
      lagMs: delivered === n ? rec.lastAt - ingestEnd : NaN,
      states: rec.states.map(([t, s, r]) => `${t}:${s}(${r})`).join(' '),
      errors: [...new Set(rec.errors)].join(', '),
    };
    log(`  ${transport}, ${inFlight} in flight: ${fmt(out.delivered)}/${fmt(n)} delivered (gaps ${c.gaps}, repeats ${c.repeats}, resets ${out.resets}) at ${fmt(out.msgs)} msg/s; ingest alone ${fmt(out.ingestEvs)} ev/s, last message ${fmt(out.lagMs)} ms after the last ingest answer${ingest.failures ? `; ${ingest.failures} failed requests (${ingest.firstError})` : ''}${out.errors ? `; client errors: ${out.errors}` : ''}`);
    return out;
  } finally {
    client.close();
    await proxy?.close();
  }
}

export async function runRealtime({ quick = false, log = console.log } = {}) {
  const started = performance.now();
  const lib = await loadClient(log);
  const size = await measureSize();
  log(`realtime: size by ${size.method}: client ${fmt(size.client)} B, reconnecting-websocket alone ${fmt(size.rws)} B, difference ${fmt(size.client - size.rws)} B`);
  const cli = await buildCollectorCopy({ root });
  if (!cli) throw new Error('no collector source (packages/collector/src/cli.ts)');
  const dataDir = mkdtempSync(join(tmpdir(), 'sightline-bench-realtime-'));
  const collector = await startCollector({ root, writeKey: WRITE_KEY, readToken: READ_TOKEN, dataDir, cli });
  const result = { size, quick, failover: [], back: [], throughput: [] };
  try {
    log(`realtime: collector (PGlite) at ${collector.url}; one event ingested every ${PUBLISH_EVERY_MS} ms; default client timings; ${REPS} clients at once per case, each through its own proxy`);
    const publisher = startPublisher(collector.url, PUBLISH_EVERY_MS);
    try {
      const run = (mode, unblock) => failoverRun({ lib, collectorUrl: collector.url, mode, unblock, log });
      // Unblocked during the socket's retries, or once its 5 attempts are spent and it probes every 10-20 s:
      // --quick lifts the block right after the 5th refusal (the worst moment: a full probe wait follows),
      // a full run at a uniform moment of the next 20 s.
      const spread = quick ? 0 : 20000;
      const early = { name: '1 s after the first message (retrying)', wait: () => sleep(1000) };
      const late = {
        name: quick ? 'right after the 5th refused attempt (probing)' : 'at a random moment 0-20 s after the 5th refused attempt (probing)',
        wait: async (proxy) => {
          await waitFor(() => proxy.stats.refused >= 5, 60000, '5 refused attempts');
          await sleep(Math.random() * spread);
        },
      };
      log('realtime: upgrade held without an answer (failover by the 2 s timer), and upgrade refused then unblocked, all at once');
      const [h, e, l] = await Promise.all([
        Promise.all(Array.from({ length: REPS }, () => run('hold'))),
        Promise.all(Array.from({ length: REPS }, () => run('refuse', early))),
        Promise.all(Array.from({ length: REPS }, () => run('refuse', late))),
      ]);
      result.held = h;
      result.refused = [...e, ...l];
      result.early = e;
      result.late = l;
      result.publisher = publisher.stats();
    } finally {
      await publisher.stop();
    }
    const { batches } = makeBatches(quick ? 20 : 40, 500, 11);
    log(`realtime: throughput, ${fmt(batches.length * 500)} events (polling: half) in 500-event batches, one subscriber`);
    result.throughput.push(await throughputRun({ lib, collectorUrl: collector.url, transport: 'socket', batches, log }));
    const half = batches.length / 2;
    // Long polling with the same load as the socket, then with one request in flight (slower ingest).
    result.throughput.push(await throughputRun({ lib, collectorUrl: collector.url, transport: 'polling', batches: makeBatches(half, 500, 12).batches, log }));
    result.throughput.push(await throughputRun({ lib, collectorUrl: collector.url, transport: 'polling', batches: makeBatches(half, 500, 13).batches, inFlight: 1, log }));
  } finally {
    await collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - started) / 1000;
  printRealtime(result, log);
  return result;
}

const stat = (xs) => (xs.length ? `${fmt(median(xs))} / ${fmt(Math.max(...xs))}` : 'n/a');
const worst = (runs) => runs.reduce((a, r) => ({ gaps: a.gaps + r.gaps, repeats: a.repeats + r.repeats, resets: a.resets + r.resets }), { gaps: 0, repeats: 0, resets: 0 });

export function printRealtime(r, log = console.log) {
  log('');
  log(`Realtime: @sightline/realtime (dist, ws, default timings) against the collector on PGlite, 127.0.0.1; ${REPS} clients per case, one event every ${PUBLISH_EVERY_MS} ms; a proxy per client blocks WebSocket upgrades`);
  const ms = (runs, k) => runs.map((x) => x[k]).filter(Number.isFinite);
  const once = (runs) => { const w = worst(runs); return `gaps ${w.gaps}, repeats ${w.repeats}, resets ${w.resets}`; };
  const rows = [['measure', 'median / max', 'target', 'each', 'order (all clients)']];
  if (r.refused) rows.push(['failover, upgrade refused: creation to first message by polling (ms)', stat(ms(r.refused, 'failoverMs')), `<= ${fmt(TARGET.failoverMs)}`, ms(r.refused, 'failoverMs').map((x) => fmt(x)).join(' '), once(r.refused)]);
  if (r.held) rows.push(['failover, upgrade held unanswered (ms)', stat(ms(r.held, 'failoverMs')), `<= ${fmt(TARGET.failoverMs)}`, ms(r.held, 'failoverMs').map((x) => fmt(x)).join(' '), once(r.held)]);
  if (r.early) rows.push(['back to the socket, unblocked while retrying (ms)', stat(ms(r.early, 'backMs')), `<= ${fmt(TARGET.backMs)}`, ms(r.early, 'backMs').map((x) => fmt(x)).join(' '), '']);
  if (r.late) rows.push([`back to the socket, unblocked while probing${r.quick ? ' (right after the 5th failure)' : ' (random moment)'} (ms)`, stat(ms(r.late, 'backMs')), `<= ${fmt(TARGET.backMs)}`, ms(r.late, 'backMs').map((x) => fmt(x)).join(' '), '']);
  for (const t of r.throughput ?? []) {
    rows.push([`messages/s through one ${t.transport === 'socket' ? 'socket' : 'long-polling client'} (${fmt(t.sent)} events, ${t.inFlight} in flight; ingest alone ${fmt(t.ingestEvs)} ev/s)`, t.delivered === t.sent ? fmt(t.msgs) : `${fmt(t.msgs)} (incomplete)`, 'n/a (report)', `${fmt(t.delivered)}/${fmt(t.sent)} delivered${Number.isFinite(t.lagMs) ? `, last ${fmt(t.lagMs)} ms after ingest` : ''}`, `gaps ${t.gaps}, repeats ${t.repeats}, resets ${t.resets}`]);
  }
  if (r.size) {
    const over = r.size.client - r.size.rws;
    rows.push(['size min+gzip: createRealtimeClient (B)', fmt(r.size.client), '~6,500', `reconnecting-websocket alone ${fmt(r.size.rws)}`, '']);
    rows.push(['size: client minus reconnecting-websocket (B)', fmt(over), `<= ${fmt(TARGET.sizeOverBytes)}`, over <= TARGET.sizeOverBytes ? 'met' : `NOT met (+${fmt(over - TARGET.sizeOverBytes)} B)`, '']);
  }
  log(table(rows));
  log(`Size by ${r.size?.method}. Failover is timed from createRealtimeClient + subscribe('events') to the first message delivered; messages/s counts the first POST to the last message delivered, so it is bounded by ingest on PGlite.`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runRealtime({ quick: process.argv.includes('--quick') }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
