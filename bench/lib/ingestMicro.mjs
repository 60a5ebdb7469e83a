// CPU cost per event of each step of the collector's ingest path, measured
// one at a time in this process on the collector's own functions (loaded
// from packages/collector/src through tsx): what the 2 cores must pay per
// event, independent of how the steps overlap under load.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { table, fmt } from './stats.mjs';

// CPU time of this process (not wall time: other work on the machine would inflate it), in ms.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function time(fn, minMs = 400) {
  // Best of a few timed loops (GC included): CPU ms per call.
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const t0 = cpuMs();
    let t = t0;
    while (t - t0 < minMs / 5) { fn(); n++; t = cpuMs(); }
    best = Math.min(best, (t - t0) / n);
  }
  return best;
}

export async function ingestMicro({ root, batches, log = console.log }) {
  const { register } = await import('tsx/esm/api');
  register();
  const src = join(root, 'packages/collector/src');
  const { validateEvent } = await import(pathToFileURL(join(src, 'validateEvent.ts')).href);
  const { decodeBody } = await import(pathToFileURL(join(src, 'decodeBody.ts')).href);
  // The COPY writer (decision 0007); absent in older trees.
  // copyText.ts before binary COPY, copyRows.ts since.
  const { copyRows } = await import(pathToFileURL(join(src, 'copyRows.ts')).href).catch(() => import(pathToFileURL(join(src, 'copyText.ts')).href)).catch(() => ({}));
  const req = createRequire(join(root, 'packages/collector/package.json'));
  const { prepareValue } = req('pg/lib/utils.js');

  const bodies = batches.slice(0, 8).map((b) => b.body);
  const perReq = bodies[0].length ? 500 : 1;
  const receivedAt = new Date().toISOString();
  const parsed = bodies.map((b) => JSON.parse(b.toString()));
  const rows = parsed.flatMap((p) => p.batch.map((e, index) => validateEvent(e, { index, receivedAt, sentAt: null, maxEventBytes: 32768 })));
  const n = rows.length;
  const steps = [];
  let i = 0;
  steps.push(['decodeBody: Buffer to string + JSON.parse (500-event body)', (await (async () => {
    let total = 0;
    for (let r = 0; r < 5; r++) { const t0 = cpuMs(); for (let k = 0; k < 4; k++) for (const b of bodies) await decodeBody(b, undefined, 512000); total = Math.min(total || Infinity, (cpuMs() - t0) / (4 * bodies.length)); }
    return total;
  })()) / perReq]);
  // The lean batch reader (decodeBody's 4th argument), absent in older trees: it ignores the argument.
  steps.push(['decodeBody, batch: Buffer to string + lean scan (properties/context kept as text)', (await (async () => {
    let total = Infinity;
    for (let r = 0; r < 5; r++) { const t0 = cpuMs(); for (let k = 0; k < 4; k++) for (const b of bodies) await decodeBody(b, undefined, 512000, true); total = Math.min(total, (cpuMs() - t0) / (4 * bodies.length)); }
    return total;
  })()) / perReq]);
  const lean = await Promise.all(bodies.map(async (b) => (await decodeBody(b, undefined, 512000, true)).value));
  steps.push(['validateEvent of lean events (no JSON.stringify)', time(() => { const p = lean[i++ & 7]; for (let k = 0; k < p.batch.length; k++) validateEvent(p.batch[k], { index: k, receivedAt, sentAt: null, maxEventBytes: 32768 }); }) / perReq]);
  steps.push(['validateEvent (checks, timestamps, JSON.stringify of properties/traits/context)', time(() => { const p = parsed[i++ & 7]; for (let k = 0; k < p.batch.length; k++) validateEvent(p.batch[k], { index: k, receivedAt, sentAt: null, maxEventBytes: 32768 }); }) / perReq]);
  const cols = Array.from({ length: 16 }, () => new Array(n));
  rows.forEach((r, k) => {
    const v = ['p', r.messageId, r.type, r.event, r.name, r.userId, r.anonymousId, r.groupId, r.previousId, r.sessionId, r.timestamp, r.sentAt, receivedAt, r.properties, r.traits, r.context];
    v.forEach((x, j) => (cols[j][k] = x));
  });
  steps.push([`pg: 16 text[] parameters to array literals (prepareValue, ${n} rows)`, time(() => cols.map((c) => prepareValue(c))) / n]);
  const q = (s) => (s == null ? 'null' : JSON.stringify(s));
  steps.push([`alternative: one jsonb parameter by concatenating the JSON texts (${n} rows)`, time(() => {
    let s = '[';
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      s += `${k ? ',' : ''}{"m":${q(r.messageId)},"t":${q(r.type)},"e":${q(r.event)},"n":${q(r.name)},"u":${q(r.userId)},"a":${q(r.anonymousId)},"s":${q(r.sessionId)},"ts":${q(r.timestamp)},"sa":${q(r.sentAt)},"pj":${r.properties},"tj":${r.traits},"cj":${r.context}}`;
    }
    return Buffer.byteLength(s + ']');
  }) / n]);
  if (copyRows) {
    const perRequest = parsed.map((_, k) => rows.slice(k * perReq, (k + 1) * perReq));
    // copyRows gives a Buffer since the lean path; before, a string still to encode.
    const bytesOf = (c) => c.data ?? Buffer.from(c.text);
    steps.push([`writer: COPY data of the rows (copyRows, ${n} rows)`, time(() => { for (const r of perRequest) bytesOf(copyRows('p', receivedAt, r)); }) / n]);
  }
  steps.push(['for scale: JSON.stringify of the parsed event', time(() => { for (const e of parsed[0].batch) JSON.stringify(e); }) / perReq]);
  log('');
  log('Collector ingest path, CPU per event of each step in isolation (process CPU time, best of 5 loops):');
  log(table([['step', 'us/event'], ...steps.map(([k, v]) => [k, fmt(v * 1000, 2)])]));
  return Object.fromEntries(steps.map(([k, v]) => [k, v * 1000]));
}
