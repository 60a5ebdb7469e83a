import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const collectorRoot = fileURLToPath(new URL('../../collector/', import.meta.url));
const sourceCli = join(collectorRoot, 'src/cli.ts');
const builtCli = join(collectorRoot, 'dist/cli.js');

export interface CollectorProcessOptions {
  /** The write key the collector accepts. */
  writeKey: string;
  /** The read token for the query endpoints. */
  readToken: string;
  /** PostgreSQL server to store into; without it the collector runs on PGlite in `dataDir`. */
  databaseUrl?: string;
  /**
   * PGlite data directory. @default a fresh temporary directory, removed by `close()`,
   * seeded from a migrated template (creating a PGlite cluster takes 5-10 s; copying one, milliseconds)
   */
  dataDir?: string;
  /** @default a free port, kept across `restart()` */
  port?: number;
  /**
   * `src` runs `packages/collector/src/cli.ts` through tsx, so tests always see the
   * current source; `dist` runs the built CLI, building it once when it is missing.
   * @default process.env.SIGHTLINE_COLLECTOR_RUNNER ?? 'src' (falls back to `dist` when there is no source CLI)
   */
  runner?: 'src' | 'dist';
  /** More CLI flags, e.g. `['--log-level', 'debug']`. */
  args?: string[];
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** How long to wait for the collector to answer. @default 30_000 */
  startTimeoutMs?: number;
}

export interface CollectorProcess {
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** PGlite data directory, or undefined on a PostgreSQL server. */
  readonly dataDir: string | undefined;
  /** The running child's pid, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** SIGTERM and wait for a graceful exit (SIGKILL after `timeoutMs`). Resolves to the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, with no chance to flush or close the database. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (stops it first if it is still running). */
  restart(): Promise<void>;
  /** Stops it and removes the data directory if this helper created it. */
  close(): Promise<void>;
  /** Everything the child wrote to stdout and stderr, across restarts. */
  logs(): string;
}

const running = new Set<ChildProcess>();
// A crashed or interrupted test run must not leave collectors holding ports.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Asks the OS for a free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let buildOnce: Promise<void> | undefined;

/** Builds `@sightline/collector` once per process when its `dist/cli.js` is missing. */
export function ensureCollectorBuilt(): Promise<void> {
  buildOnce ??= new Promise<void>((resolve, reject) => {
    if (existsSync(builtCli)) return resolve();
    const result = spawnSync('pnpm', ['--filter', '@sightline/collector', 'build'], {
      cwd: join(collectorRoot, '../..'),
      encoding: 'utf8',
    });
    if (result.status !== 0 || !existsSync(builtCli)) {
      buildOnce = undefined;
      reject(new Error(`[sightline/testing] building the collector failed:\n${result.stdout}\n${result.stderr}`));
    } else resolve();
  });
  return buildOnce;
}

/**
 * The runner's environment without the variables the CLI reads as defaults:
 * a DATABASE_URL exported for the PostgreSQL tests must not turn a PGlite collector into a PostgreSQL one.
 */
function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'DATABASE_URL' || name.startsWith('SIGHTLINE_')) delete env[name];
  return { ...env, ...extra };
}

function tsxLoader(): string {
  // tsx is a root dev dependency; resolve it from here so the child finds it whatever its cwd.
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('tsx/esm')).href;
}

async function waitUntilAnswering(url: string, child: ChildProcess, deadline: number, logs: () => string): Promise<void> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exited = `exited with ${signal ?? code}`;
  };
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`[sightline/testing] collector ${exited} before it answered:\n${logs()}`);
      try {
        // Any HTTP answer means the server is listening; /healthz also says the database is up.
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (res.status < 500) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`[sightline/testing] collector did not answer at ${url} in time:\n${logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.off('exit', onExit);
  }
}

let template: Promise<string> | undefined;

/**
 * A PGlite data directory with the collector's migrations applied and no
 * project, shared by every test of the machine that uses the same migrations
 * and PGlite version; copied for each collector instead of running initdb again.
 */
function pgliteTemplate(cli: readonly string[]): Promise<string> {
  template ??= (async () => {
    const hash = createHash('sha256');
    const migrations = join(collectorRoot, 'migrations');
    for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(join(migrations, name)));
    hash.update(readFileSync(join(collectorRoot, 'node_modules/@electric-sql/pglite/package.json')));
    const dir = join(tmpdir(), `sightline-pglite-template-${hash.digest('hex').slice(0, 16)}`);
    if (existsSync(join(dir, '.ready'))) return dir;

    const building = mkdtempSync(join(tmpdir(), 'sightline-pglite-building-'));
    const port = await freePort();
    const args = [...cli, '--host', '127.0.0.1', '--port', String(port), '--data-dir', building, '--log-level', 'warn'];
    const proc = spawn(process.execPath, args, {
      cwd: collectorRoot,
      env: childEnv(undefined),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => (running.delete(proc), resolve(code))));
    try {
      await waitUntilAnswering(`http://127.0.0.1:${port}`, proc, Date.now() + 60_000, () => output);
    } catch (error) {
      proc.kill('SIGKILL');
      rmSync(building, { recursive: true, force: true });
      throw error;
    }
    // A clean shutdown, so the copy starts without crash recovery.
    proc.kill('SIGTERM');
    if ((await exited) !== 0)
      throw new Error(`[sightline/testing] the PGlite template collector did not stop cleanly:\n${output}`);
    writeFileSync(join(building, '.ready'), '');
    try {
      renameSync(building, dir);
    } catch {
      // Another process built the same template first: use theirs.
      rmSync(building, { recursive: true, force: true });
    }
    return dir;
  })();
  template.catch(() => (template = undefined));
  return template;
}

async function seedPgliteDir(dataDir: string, cli: readonly string[]): Promise<void> {
  const seed = await pgliteTemplate(cli);
  cpSync(seed, dataDir, { recursive: true, filter: (source) => !source.endsWith('.ready') });
}

/**
 * A new temporary PGlite data directory with the collector's migrations already
 * applied (a copy of a cached template). Remove it when done.
 */
export async function freshPgliteDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-collector-'));
  await seedPgliteDir(dir, await collectorCommand(undefined));
  return dir;
}

/** Node arguments that run the CLI: the source through tsx, or the build (made once when missing). */
async function collectorCommand(runner: 'src' | 'dist' | undefined): Promise<string[]> {
  const envRunner = process.env.SIGHTLINE_COLLECTOR_RUNNER;
  const chosen = runner ?? (envRunner === 'dist' || !existsSync(sourceCli) ? 'dist' : 'src');
  if (chosen === 'src') return ['--import', tsxLoader(), sourceCli];
  await ensureCollectorBuilt();
  return [builtCli];
}

/**
 * Runs the collector CLI in its own process on 127.0.0.1, on PGlite (a temp
 * data directory unless `dataDir` is given) or on `databaseUrl`. Unlike the
 * in-process `createCollector`, it can be SIGKILLed and restarted on the same
 * port and data, as a crashed server would be.
 */
export async function startCollectorProcess(options: CollectorProcessOptions): Promise<CollectorProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const ownDataDir = options.databaseUrl === undefined && options.dataDir === undefined;
  const dataDir =
    options.databaseUrl !== undefined ? options.dataDir : options.dataDir ?? mkdtempSync(join(tmpdir(), 'sightline-collector-'));
  const cli = await collectorCommand(options.runner);
  if (ownDataDir && dataDir !== undefined) await seedPgliteDir(dataDir, cli);

  const cliArgs = [
    ...['--host', '127.0.0.1', '--port', String(port)],
    ...['--write-key', options.writeKey, '--read-token', options.readToken],
    ...(options.databaseUrl !== undefined ? ['--database-url', options.databaseUrl] : []),
    ...(dataDir !== undefined && options.databaseUrl === undefined ? ['--data-dir', dataDir] : []),
    ...(options.args ?? []),
  ];
  const nodeArgs = [...cli, ...cliArgs];

  let output = '';
  const logs = (): string => output;
  let child: ChildProcess | undefined;
  let exit: Promise<number | null> | undefined;

  const spawnChild = async (): Promise<void> => {
    const proc = spawn(process.execPath, nodeArgs, {
      cwd: collectorRoot,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    child = proc;
    exit = new Promise((resolve) => {
      proc.once('exit', (code) => {
        running.delete(proc);
        if (child === proc) child = undefined;
        resolve(code);
      });
    });
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    output += `--- started pid ${proc.pid}: ${nodeArgs.join(' ')}\n`;
    await waitUntilAnswering(url, proc, Date.now() + (options.startTimeoutMs ?? 30_000), logs).catch(async (error: unknown) => {
      proc.kill('SIGKILL');
      await exit;
      throw error;
    });
  };

  const stop = async (timeoutMs = 10_000): Promise<number | null> => {
    const proc = child;
    if (proc === undefined || exit === undefined) return null;
    const exited = exit;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await spawnChild();
  } catch (error) {
    if (ownDataDir && dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    url,
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    stop,
    async kill() {
      const proc = child;
      if (proc === undefined || exit === undefined) return;
      const exited = exit;
      proc.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await stop();
      await spawnChild();
    },
    async close() {
      await stop();
      if (ownDataDir && dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    },
    logs,
  };
}
