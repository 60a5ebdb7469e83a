// Runs the collector CLI in a child process (from source through tsx, or the
// built dist), so it can be profiled with --cpu-prof and so the load
// generator's event loop is separate from the server's. Both still share the
// machine's 2 cores.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export function collectorAvailable(root) {
  const src = join(root, 'packages/collector/src/cli.ts');
  const dist = join(root, 'packages/collector/dist/cli.js');
  if (existsSync(src) && !process.env.BENCH_COLLECTOR_DIST) return { runner: 'src', cli: src };
  if (existsSync(dist)) return { runner: 'dist', cli: dist };
  return null;
}

/**
 * @param {{ root: string, writeKey: string, readToken: string, databaseUrl?: string, dataDir?: string,
 *           cpuProfDir?: string, logLevel?: string, cli?: string, env?: object }} o
 */
export async function startCollector(o) {
  const found = o.cli ? { runner: 'custom', cli: o.cli } : collectorAvailable(o.root);
  if (!found) throw new Error('no collector: neither packages/collector/src/cli.ts nor dist/cli.js exists');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const req = createRequire(join(o.root, 'package.json'));
  const nodeArgs = [];
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, '--cpu-prof-interval=200');
  if (found.cli.endsWith('.ts')) nodeArgs.push('--import', pathToFileURL(req.resolve('tsx/esm')).href);
  const args = [
    found.cli, '--host', '127.0.0.1', '--port', String(port), '--write-key', o.writeKey, '--read-token', o.readToken,
    ...(o.databaseUrl ? ['--database-url', o.databaseUrl] : ['--data-dir', o.dataDir]),
    ...(o.logLevel ? ['--log-level', o.logLevel] : []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: join(o.root, 'packages/collector'),
    env: { ...process.env, NODE_ENV: 'production', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let lines = 0;
  const keep = (d) => { tail = (tail + d).slice(-8000); lines += String(d).split('\n').length - 1; };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  let exitCode;
  exited.then((c) => (exitCode = c));
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`collector exited (${exitCode}) before answering:\n${tail}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) break;
    } catch {}
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`collector did not answer in time:\n${tail}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid,
    runner: found.runner,
    logs: () => tail,
    logLines: () => lines,
    /** SIGTERM: the collector drains and exits (and writes its CPU profile). */
    async stop(timeoutMs = 30000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
