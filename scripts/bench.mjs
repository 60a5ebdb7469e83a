#!/usr/bin/env node
// `pnpm bench`: benchmarks that print figures (they are not timed tests and
// do not fail on a missed target). See docs/benchmarks.md.
//
//   pnpm bench                    everything (about 4-5 minutes on 2 cores)
//   pnpm bench --only track       track() in Chromium
//   pnpm bench --only ingest      collector ingest vs raw PostgreSQL COPY / PGlite
//   pnpm bench --only realtime    @sightline/realtime against the collector: failover, time back, msg/s, size
//   pnpm bench --quick            fewer rounds and batches (about 2 minutes)
//   pnpm bench --profile          also CPU profiles: track() in Chromium, the collector under load
//   pnpm bench --variants         also alternative collector write paths from bench/proto/
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineSpeed } from '../bench/lib/speed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    variants: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: pnpm bench [--only track|ingest|realtime] [--quick] [--profile] [--variants]');
  process.exit(0);
}
if (values.only && !['track', 'ingest', 'realtime'].includes(values.only)) {
  console.error(`--only must be track, ingest or realtime, got "${values.only}"`);
  process.exit(2);
}
const want = (name) => !values.only || values.only === name;

const started = Date.now();
const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`Sightline benchmarks, ${new Date().toISOString()}, ${machine}`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}${loadavg()[0] > 1 ? '  (other work is running: figures will be noisy)' : ''}`);

const results = { date: new Date().toISOString(), machine, quick: values.quick, speed: { start: machineSpeed() } };
const speedText = (s) => `${s.loop.toFixed(2)} ns per integer loop step, ${s.json.toFixed(2)} us per event of a JSON round trip`;
const speedLine = (s) => `machine speed: ${speedText(s)} (lower is faster; compare absolute figures only between runs where both are close)`;
console.log(speedLine(results.speed.start));
const outDir = join(root, 'bench/.out');
const log = (line) => console.log(line);
let failed = false;

if (want('track')) {
  console.log('\n== track() in Chromium');
  try {
    const { runTrack } = await import('../bench/track.bench.mjs');
    results.track = await runTrack({ quick: values.quick, profile: values.profile, log });
  } catch (err) {
    failed = true;
    console.error(`track bench failed: ${err.stack ?? err}`);
  }
}
if (want('ingest')) {
  console.log('\n== collector ingest');
  try {
    const { runIngest } = await import('../bench/ingest.bench.mjs');
    results.ingest = await runIngest({ quick: values.quick, profile: values.profile, variants: values.variants, log, outDir });
  } catch (err) {
    failed = true;
    console.error(`ingest bench failed: ${err.stack ?? err}`);
  }
}
if (want('realtime')) {
  console.log('\n== realtime');
  try {
    const { runRealtime } = await import('../bench/realtime.bench.mjs');
    results.realtime = await runRealtime({ quick: values.quick, log });
  } catch (err) {
    failed = true;
    console.error(`realtime bench failed: ${err.stack ?? err}`);
  }
}

// Tables again at the end, together, so they are easy to copy (also saved as bench/.out/summary-*.txt).
results.speed.end = machineSpeed();
console.log('\n== summary');
const summary = [];
const both = (line) => (console.log(line), summary.push(line));
if (results.track && !results.track.skipped) (await import('../bench/track.bench.mjs')).printTrack(results.track, both);
if (results.ingest) (await import('../bench/ingest.bench.mjs')).printIngest({ ...results.ingest, profiles: {} }, both);
if (results.realtime) (await import('../bench/realtime.bench.mjs')).printRealtime(results.realtime, both);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `results-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, (k, v) => (k === 'latencies' ? undefined : v), 2));
const speeds = `machine speed at start: ${speedText(results.speed.start)}; at end: ${speedText(results.speed.end)} (lower is faster)`;
console.log(speeds);
writeFileSync(file.replace('results-', 'summary-').replace('.json', '.txt'), `${results.date}, ${machine}\n${speeds}\n${summary.join('\n')}\n`);
console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; took ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${file.replace(root + '/', '')}`);
process.exit(failed ? 1 : 0);
