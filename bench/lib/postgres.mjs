// Minimal PostgreSQL 15 starter for the benchmarks. Used only when
// packages/testing/src/postgres.ts (the shared helper) is not there yet.
// The server binaries refuse to run as root, so initdb/postgres run as the
// `postgres` OS user in a temp dir it owns, listening on 127.0.0.1 only.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const BIN = '/usr/lib/postgresql/15/bin';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function asPostgres(cmd, args) {
  const root = process.getuid?.() === 0;
  return root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/**
 * Start a throwaway PostgreSQL 15 server.
 * @param {{ settings?: Record<string,string> }} [opts]
 * @returns {Promise<{ url: string, stop(): Promise<void>, source: string }>}
 */
export async function startOwnPostgres(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-bench-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const [c1, a1] = asPostgres(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  execFileSync(c1, a1, { stdio: 'ignore' });
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    shared_buffers: '256MB',
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
    max_connections: '50',
    ...opts.settings,
  };
  const args = ['-D', data];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const [c2, a2] = asPostgres(`${BIN}/postgres`, args);
  const child = spawn(c2, a2, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; if (log.length > 20000) log = log.slice(-10000); });
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (/ready to accept connections/.test(log)) break;
    if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`postgres did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: 'bench/lib/postgres.mjs',
    async stop() {
      if (stopped) return;
      stopped = true;
      // SIGINT = fast shutdown; the runuser wrapper forwards it.
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Prefer the shared helper (packages/testing/src/postgres.ts, loaded through
 * tsx) so the bench runs the same server set-up as the tests; fall back to
 * the starter above while it does not exist.
 */
export async function startPostgres(root) {
  const shared = join(root, 'packages/testing/src/postgres.ts');
  if (existsSync(shared) && !process.env.BENCH_OWN_PG) {
    try {
      // The helper is TypeScript source: load it through tsx's ESM hooks.
      const { register } = await import('tsx/esm/api');
      register();
      const mod = await import(pathToFileURL(shared).href);
      if (typeof mod.startPostgres === 'function') {
        const pg = await mod.startPostgres();
        return { ...pg, source: 'packages/testing/src/postgres.ts' };
      }
    } catch (err) {
      console.error(`[bench] packages/testing startPostgres failed (${err.message}); using bench/lib/postgres.mjs`);
    }
  }
  return startOwnPostgres();
}
