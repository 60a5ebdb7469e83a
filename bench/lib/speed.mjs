// A fixed piece of JavaScript timed in process CPU time: how fast this machine runs right now.
// On a shared VM the host can slow every process by tens of percent for minutes while this guest's
// own load stays at zero; the same figure at the start and end of a run (and across runs) tells
// whether absolute figures can be compared at all. Two figures: an integer loop (no allocation,
// so no GC: the core's clock and share) and a JSON round trip of a bench body (memory, caches and
// allocation, where the collector spends its time; the fastest of 9 rounds, as garbage from earlier
// rounds slows later ones).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeBatches } from './events.mjs';

let body;

function work(n) {
  let x = 0x9e3779b9 | 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sum = (sum + (x & 0xffff)) | 0;
  }
  return sum;
}

/** In this process: `loop`, CPU ns per step of a xorshift loop (median of 9); `json`: CPU us per event of JSON.parse + stringify of a 500-event body (fastest of 9). */
function measure() {
  body ??= makeBatches(1, 500, 7).batches[0].body.toString();
  const json = [];
  for (let r = 0; r < 9; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < 4; i++) JSON.stringify(JSON.parse(body));
    const u = process.cpuUsage(t);
    json.push((u.user + u.system) / (4 * 500));
  }
  const rounds = [];
  let sink = 0;
  for (let r = 0; r < 9; r++) {
    const t = process.cpuUsage();
    sink ^= work(2_000_000);
    const u = process.cpuUsage(t);
    rounds.push(((u.user + u.system) * 1000) / 2_000_000);
  }
  if (sink === 0.5) console.log(sink); // keeps the loop from being optimised away
  return { loop: rounds.sort((a, b) => a - b)[4], json: Math.min(...json) };
}

/**
 * The two figures of {@link measure}, taken in a fresh Node process each time: a long-running
 * bench process has a heap of its own that slows the JSON round trip by itself.
 */
export function machineSpeed() {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { encoding: 'utf8' });
  return run.status === 0 ? JSON.parse(run.stdout) : { loop: NaN, json: NaN };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(measure()));
