import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/** A running throwaway PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, no password). */
  url: string;
  /** Stop the server and delete its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Where the server binaries are: `SIGHTLINE_PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`. */
export function findPostgresBin(): string {
  const fromEnv = process.env['SIGHTLINE_PG_BIN'];
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      'PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $SIGHTLINE_PG_BIN). ' +
        'Install them with: apt-get install -y postgresql',
    );
  }
  return join(root, newest, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start a PostgreSQL server for tests in a fresh temp folder: initdb with
 * trust auth, listening on 127.0.0.1 on a free port, its unix socket in the
 * same folder, fsync off. PostgreSQL refuses to run as root, so as root it
 * runs as the `postgres` OS user.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'sightline-pg-'));
  const dataDir = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot
      ? execFileAsync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args])
      : execFileAsync(join(bin, command), args);

  try {
    if (asRoot) await chown(dir, ...(await postgresIds()));
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const serverFlags = [
      '-h 127.0.0.1',
      `-p ${port}`,
      `-k ${dir}`,
      // A test server loses nothing worth keeping on a crash: trade durability for speed.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await run('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverFlags, 'start']);
    // pg_ctl leaves the server running on its own: a process that ends without stop() (an
    // uncaught error, process.exit) would leave it and its folder behind for good.
    const orphaned = () => abandon(dataDir, dir);
    process.once('exit', orphaned);
    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop() {
        stopped ??= (async () => {
          const ok = await run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']).then(
            () => true,
            () => false,
          );
          // Until the server is known to be down, the exit hook still stands guard.
          if (ok) process.off('exit', orphaned);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `Could not start PostgreSQL from ${bin}: ${(error as Error).message}` +
        (asRoot ? ' (as root it runs as the `postgres` OS user, which apt-get install -y postgresql creates)' : ''),
    );
  }
}

/**
 * At exit, synchronously: stop the server at once (SIGQUIT, immediate shutdown, from the pid
 * pg_ctl's postmaster wrote) and delete its folder. Best effort; nothing in it is worth keeping.
 */
function abandon(dataDir: string, dir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    // A stale pid file may name an unrelated process by now: only a postgres of this data directory.
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (pid > 0 && command.includes('postgres') && command.includes(dataDir)) process.kill(pid, 'SIGQUIT');
  } catch {}
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {}
}

let ids: Promise<[number, number]> | undefined;
function postgresIds(): Promise<[number, number]> {
  ids ??= Promise.all([
    execFileAsync('id', ['-u', 'postgres']),
    execFileAsync('id', ['-g', 'postgres']),
  ]).then(([u, g]) => [Number(u.stdout.trim()), Number(g.stdout.trim())]);
  return ids;
}

/** A database created for one test file, so files running in parallel never meet. */
export interface TestDatabase {
  url: string;
  /** Drop it (closing its connections). */
  drop(): Promise<void>;
}

/**
 * Create a fresh, uniquely named database on the server at `serverUrl`. `options` go after the
 * name in CREATE DATABASE, e.g. `TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`.
 */
export async function createDatabase(serverUrl: string, prefix = 'sightline_test', options = ''): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" ${options}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
