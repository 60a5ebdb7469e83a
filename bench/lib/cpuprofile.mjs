// Summarises a V8 .cpuprofile (node --cpu-prof): self time by area of the
// collector (HTTP, JSON parse, validation, SQL parameter building, database
// driver, PGlite/WASM, logging, GC) and the top functions.
import { readFileSync } from 'node:fs';
import { table, fmt } from './stats.mjs';

// The collector runs from src (tsx), dist, or the bench's bundled copy: one
// file, so its areas are told apart by function name.
const COLLECTOR = /packages\/collector\/(src|dist)\/|bench\/\.out\/[^/]+\/dist\/cli\.js/;
const inCollector = (f, file, fns) => COLLECTOR.test(f.url) && (file.test(f.url) || fns.test(f.functionName));

const AREAS = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['collector: body decode + JSON.parse / lean scan', (f) => inCollector(f, /decodeBody|leanBatch/, /^(decodeBody|decompress|scanBatch|readBatch|readEvent|readRaw|readValue|readString|readKey|skipValue|skipString|skipNumber|escape|hex4|space|colon|next|empty|digits|literal|spaces|string|number|skip|key|memberName|need|openWindow|byteOffset|inWindow|batchStart|element|memberKey|memberEnd|skippedMember|readMember)$/)],
  ['collector: validation and timestamps (+ JSON.stringify of properties/context)', (f) => inCollector(f, /validateEvent|canonicalTime/, /^(validateEvent|jsonText|parseTimestamp|readId|optionalObject|fail|isObject|deeperThan|deepMember|eventBytes|textOf|canonicalMillis|twoDigits|isLeap|daysSinceEpoch)$/)],
  ['collector: event writer (COPY data, row/param building)', (f) => inCollector(f, /eventWriter|copyText|copyRows/, /^(insertGroup|runGroup|pump|keyOf|write|copyRows|copyHead|copyField|optional|jsonField|nullableText|timestamp|text|int32|instant)$/)],
  ['collector: other source', (f) => COLLECTOR.test(f.url)],
  ['pg driver (param serialisation, protocol)', (f) => /node_modules\/.*\/(pg|pg-protocol|pg-types|pg-pool|postgres-array|pgpass)\//.test(f.url) || /\/pg\/lib\//.test(f.url)],
  ['PGlite (JS + WASM engine)', (f) => /pglite|^wasm:/.test(f.url)],
  ['logging (pino)', (f) => /pino|sonic-boom|thread-stream|fast-redact|quick-format/.test(f.url)],
  ['Fastify and plugins', (f) => /fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|content-type|toad-cache|abstract-logging|process-warning|rfdc/.test(f.url)],
  ['tsx loader', (f) => /\/tsx\//.test(f.url)],
  ['Node internals (http, net, streams, zlib)', (f) => /^node:/.test(f.url)],
  ['V8 builtins / native (JSON, strings, regexps)', (f) => f.url === '' && f.functionName !== '(program)'],
  ['(program)', (f) => f.functionName === '(program)'],
];

// Inclusive time of these functions (wherever they are called from). JSON.parse
// and JSON.stringify get no frame of their own in V8 profiles: their time is
// the self time of the function calling them (decodeBody, jsonText).
const INCLUSIVE = [
  ['decodeBody', (f) => f.functionName === 'decodeBody'],
  ['validateEvent', (f) => f.functionName === 'validateEvent'],
  ['insertGroup (build params + query)', (f) => f.functionName === 'insertGroup'],
  ['pg prepareValue / arrayString', (f) => /prepareValue|arrayString/.test(f.functionName) && /pg/.test(f.url)],
  ['pg Query.prepare / Connection.bind', (f) => /node_modules\/.*\/pg(-protocol)?\//.test(f.url) && /^(prepare|bind|serialize|_send)/.test(f.functionName)],
  ['pg parse results (pg-protocol parser)', (f) => /pg-protocol/.test(f.url) && /parse|handlePacket/.test(f.functionName)],
];

/** `window` ({from, to} in monotonic us) limits the summary to the measured load. */
export function summarizeProfile(file, root = '', window = {}) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const incl = new Map(INCLUSIVE.map(([k]) => [k, 0]));
  let total = 0;
  let busy = 0;
  let ts = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    ts += p.timeDeltas[i];
    const dt = p.timeDeltas[i + 1] ?? 0;
    if ((window.from && ts < window.from) || (window.to && ts > window.to)) continue;
    const id = p.samples[i];
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') continue;
    busy += dt;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      for (const [k, m] of INCLUSIVE) if (!seen.has(k) && m(cf)) { seen.add(k); incl.set(k, incl.get(k) + dt); }
    }
  }
  const areas = new Map();
  const fns = new Map();
  for (const [id, dt] of self) {
    const f = byId.get(id).callFrame;
    const area = (AREAS.find(([, m]) => m(f)) ?? ['other JS dependencies'])[0];
    areas.set(area, (areas.get(area) ?? 0) + dt);
    if (f.functionName === '(idle)') continue;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\//, '').replace(root + '/', '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
  }
  const pct = (v, of) => fmt((v / of) * 100, 1) + '%';
  const lines = [];
  lines.push(`sampled ${fmt(total / 1000)} ms, busy ${fmt(busy / 1000)} ms (${pct(busy, total)})`);
  lines.push(table([['area (self time)', 'ms', '% of busy'], ...[...areas].filter(([k]) => k !== 'idle').sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, fmt(v / 1000), pct(v, busy)])]));
  lines.push(table([['function (inclusive time)', 'ms', '% of busy'], ...[...incl].map(([k, v]) => [k, fmt(v / 1000), pct(v, busy)])]));
  lines.push(table([['top functions (self time)', 'ms', '% of busy'], ...[...fns].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => [k.slice(0, 110), fmt(v / 1000), pct(v, busy)])]));
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(summarizeProfile(process.argv[2], process.cwd()));

/** Self and inclusive time per function of a profile object (for the Chromium page profile). */
export function topFunctions(p, n = 15, root = '') {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const self = new Map();
  const incl = new Map();
  let busy = 0;
  const name = (f) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^https?:\/\/[^/]+/, '').replace(root, '')}:${f.lineNumber + 1}`;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]);
    if (['(idle)', '(program)'].includes(node.callFrame.functionName)) continue;
    busy += dt;
    const k = name(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let cur = node.id; cur !== undefined; cur = parent.get(cur)) {
      const kk = name(byId.get(cur).callFrame);
      if (!seen.has(kk)) { seen.add(kk); incl.set(kk, (incl.get(kk) ?? 0) + dt); }
    }
  }
  const pct = (v) => fmt((v / busy) * 100, 1) + '%';
  return [
    table([['function (self time)', '% of busy'], ...[...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k.slice(0, 100), pct(v)])]),
    table([['function (inclusive time)', '% of busy'], ...[...incl].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k.slice(0, 100), pct(v)])]),
  ].join('\n');
}
