// CPU seconds used by processes, from /proc (Linux), to show where the 2 cores went.
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100;

function ticks(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function postgresPids() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') out.push(d);
    } catch {}
  }
  return out;
}

// Busy jiffies of the whole machine (all cores), from /proc/stat.
function machineBusy() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
}

/** Snapshot: collector pid, all postgres processes, and this process. Postgres backends that exit in between are lost. */
export function cpuSnapshot(collectorPid) {
  const pg = new Map(postgresPids().map((p) => [p, ticks(p)]));
  const self = process.cpuUsage();
  return { t: performance.now(), machine: machineBusy(), collector: collectorPid ? ticks(collectorPid) : 0, pg, self: (self.user + self.system) / 1e6 };
}

export function cpuDelta(a, b) {
  let pg = 0;
  for (const [pid, t] of b.pg) pg += t - (a.pg.get(pid) ?? 0);
  const wall = (b.t - a.t) / 1000;
  const collector = (b.collector - a.collector) / HZ;
  const postgres = pg / HZ;
  const loadgen = b.self - a.self;
  const machine = (b.machine - a.machine) / HZ;
  // Whatever else ran on the 2 cores meanwhile (other engineers' builds and tests, browsers...).
  const others = Math.max(0, machine - collector - postgres - loadgen);
  return { wall, collector, postgres, loadgen, machine, others };
}
