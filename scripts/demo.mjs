#!/usr/bin/env node
// `pnpm demo`: the reference collector on PGlite in ./.sightline-data plus the
// Vite dev server for examples/demo, wired together; Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const collectorDir = join(root, 'packages/collector');
const cli = join(collectorDir, 'dist/cli.js');
const dataDir = join(root, '.sightline-data');

const host = '127.0.0.1';
const collectorPort = Number(process.env.SIGHTLINE_COLLECTOR_PORT ?? 4318);
const demoPort = Number(process.env.SIGHTLINE_DEMO_PORT ?? 5173);
const collectorUrl = `http://${host}:${collectorPort}`;
// Development credentials only: the demo page holds the read token, which a real site must never do.
const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? 'dev-write-key';
const readToken = process.env.SIGHTLINE_READ_TOKEN ?? 'dev-read-token';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '__tests__') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildCollectorIfNeeded() {
  const stale = !existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(collectorDir, 'src'));
  if (!stale) return;
  console.log('[demo] building @sightline/collector…');
  const result = spawnSync('pnpm', ['--filter', '@sightline/collector', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(cli)) {
    console.error('[demo] the collector build failed; see above.');
    process.exit(1);
  }
}

async function waitForCollector(child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the collector exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${collectorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the collector did not answer at ${collectorUrl} within 30 s`);
}

buildCollectorIfNeeded();
mkdirSync(dataDir, { recursive: true });

const collector = spawn(
  process.execPath,
  [
    cli,
    ...['--host', host, '--port', String(collectorPort), '--data-dir', dataDir],
    ...['--write-key', writeKey, '--read-token', readToken],
    // The page polls every second: request logs would bury everything else.
    ...['--log-level', process.env.SIGHTLINE_LOG_LEVEL ?? 'warn'],
  ],
  // Its own process group: Ctrl-C reaches only this script, which then stops the collector once
  // (a second signal would make the collector skip draining its in-flight inserts).
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true }
);
process.on('exit', () => {
  if (collector.exitCode === null) collector.kill('SIGKILL');
});

let vite;
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n[demo] stopping…');
  await vite?.close().catch(() => {});
  if (collector.exitCode === null) {
    const exited = new Promise((r) => collector.once('exit', r));
    collector.kill('SIGTERM');
    const timer = setTimeout(() => collector.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
collector.once('exit', (code) => {
  if (!stopping) {
    console.error(`[demo] the collector exited (code ${code}); stopping the demo.`);
    void stop(1);
  }
});

try {
  await waitForCollector(collector);
  // Vite exposes VITE_* variables to the page through import.meta.env.
  process.env.VITE_SIGHTLINE_HOST = collectorUrl;
  process.env.VITE_SIGHTLINE_WRITE_KEY = writeKey;
  process.env.VITE_SIGHTLINE_READ_TOKEN = readToken;
  const { createServer } = await import('vite');
  const demoRoot = join(root, 'examples/demo');
  vite = await createServer({
    root: demoRoot,
    configFile: join(demoRoot, 'vite.config.ts'),
    server: { host, port: demoPort, strictPort: true },
    clearScreen: false,
  });
  await vite.listen();
} catch (error) {
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}

console.log(`
  Sightline demo
    page       http://${host}:${demoPort}/
    collector  ${collectorUrl}   (PGlite data in ${dataDir})
    write key  ${writeKey}
    read token ${readToken}

  Try offline: open DevTools → Network → set throttling to "Offline", click a few
  buttons ("Queued in IndexedDB" grows), reload if you like, then go back to
  "No throttling": every event arrives once in the list.

  Ctrl-C stops both.
`);
