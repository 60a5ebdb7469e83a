// A fixed piece of JavaScript timed in process CPU time: how fast this machine runs right now.
// On a shared VM the host can slow every process by tens of percent for minutes while this guest's
// own load stays at zero; the same figure at the start and end of a run (and across runs) tells
// whether absolute figures can be compared at all. Integer work only: no allocation, so no GC
// and no heap state in the figure.

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

/** CPU ns per iteration of a xorshift loop (2 million iterations), the median of 9 rounds. */
export function machineSpeed() {
  const rounds = [];
  let sink = 0;
  for (let r = 0; r < 9; r++) {
    const t = process.cpuUsage();
    sink ^= work(2_000_000);
    const u = process.cpuUsage(t);
    rounds.push(((u.user + u.system) * 1000) / 2_000_000);
  }
  if (sink === 0.5) console.log(sink); // keeps the loop from being optimised away
  return rounds.sort((a, b) => a - b)[4];
}
