import type { FastifyInstance } from 'fastify';
import { buildApp, type LogLevel } from './app';
import { createKeyStore } from './auth';
import { ensureProject, type ProjectCredentials, type ProjectSeed } from './credentials';
import type { Database } from './database';
import { createEventWriter, type EventWriter, type EventWriterOptions } from './eventWriter';
import { loadMigrations, migrate } from './migrate';
import { openPgDatabase } from './pgDatabase';
import { openPgliteDatabase } from './pgliteDatabase';
import { createRateLimiter, type RateLimitOptions } from './rateLimiter';

/** Options of {@link createCollector}. Every one is optional. */
export interface CollectorOptions {
  /**
   * Interface to listen on. Keep the loopback default unless a proxy or
   * container needs another.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * TCP port; `0` picks a free one (read it back from `collector.url`).
   * @default 4318
   */
  port?: number | undefined;
  /**
   * Folder of the embedded PGlite database, created on first start. Ignored
   * when `databaseUrl` or `database` is given.
   * @default './.sightline-data'
   */
  dataDir?: string | undefined;
  /** PostgreSQL server to use instead of PGlite, e.g. `postgres://user:pass@host:5432/db`. */
  databaseUrl?: string | undefined;
  /** A database opened by the caller; the collector does not close it. */
  database?: Database | undefined;
  /** Projects to create at start (idempotent). */
  projects?: readonly ProjectSeed[] | undefined;
  /**
   * Shorthand for a development project with id `default` holding this write
   * key (and `readToken`): what the CLI's `--write-key` does.
   */
  writeKey?: string | undefined;
  /** Read token of the `writeKey` shorthand project. */
  readToken?: string | undefined;
  /**
   * Structured (pino JSON) log level.
   * @default 'info'
   */
  logLevel?: LogLevel | undefined;
  /**
   * Per-write-key token bucket; `false` turns it off.
   * @default { requestsPerSecond: 1000, burst: 2000 }
   */
  rateLimit?: RateLimitOptions | false | undefined;
  /**
   * Largest event, in UTF-8 bytes of its JSON.
   * @default 32768 (32 KB)
   */
  maxEventBytes?: number | undefined;
  /**
   * Largest request body, in bytes, both as sent and once decompressed.
   * @default 512000 (500 KB)
   */
  maxBatchBytes?: number | undefined;
  /** Tuning of the grouped insert path. */
  writer?: EventWriterOptions | undefined;
  /**
   * On `close()`, how long requests in flight may take before their
   * connections are cut.
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Folder of the `NNNN_name.sql` migrations.
   * @default the package's `migrations/`
   */
  migrationsDir?: string | undefined;
}

/** A collector instance: call `listen()`, then `close()`. */
export interface Collector {
  /** `http://host:port` once listening; throws before. */
  readonly url: string;
  /** The open database once started; throws before. */
  readonly database: Database;
  /** The Fastify instance, for `inject()` in tests or extra routes before `listen()`. */
  readonly app: FastifyInstance;
  /** Credentials of the projects created at start (`projects`, then the `writeKey` shorthand). */
  readonly projects: readonly ProjectCredentials[];
  /** Open the database, migrate, create the start projects; no HTTP. Idempotent. */
  start(): Promise<void>;
  /** `start()`, then listen. Resolves with the URL. */
  listen(): Promise<string>;
  /**
   * Shut down without losing accepted events: stop accepting connections,
   * finish requests in flight and their inserts, close the database. Idempotent.
   */
  close(): Promise<void>;
  /** Create a project (idempotent for the same id, key and token) and return its credentials. */
  createProject(seed?: ProjectSeed): Promise<ProjectCredentials>;
}

/** Defaults of {@link CollectorOptions}, shared with the CLI. */
export const COLLECTOR_DEFAULTS = {
  host: '127.0.0.1',
  port: 4318,
  dataDir: './.sightline-data',
  logLevel: 'info',
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
} as const;

/** Create a collector. Nothing happens until `start()` or `listen()`. */
export function createCollector(options: CollectorOptions = {}): Collector {
  const host = options.host ?? COLLECTOR_DEFAULTS.host;
  const port = options.port ?? COLLECTOR_DEFAULTS.port;
  let db: Database | undefined;
  let writer: EventWriter | undefined;
  let url: string | undefined;
  let started: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let shuttingDown = false;
  const projects: ProjectCredentials[] = [];

  const requireDb = (): Database => {
    if (!db) throw new Error('[sightline] The collector is not started: await collector.start() or listen() first.');
    return db;
  };

  // The app reaches the database lazily, so it can be built (and extended) before start().
  const lazyDb: Database = {
    get kind() {
      return requireDb().kind;
    },
    query: (sql, params) => requireDb().query(sql, params),
    exec: (sql) => requireDb().exec(sql),
    transaction: (fn) => requireDb().transaction(fn),
    close: async () => {},
  };
  const lazyWriter: EventWriter = {
    write: (projectId, receivedAt, rows) => writer!.write(projectId, receivedAt, rows),
    drain: () => writer?.drain() ?? Promise.resolve(),
  };
  const app = buildApp({
    db: lazyDb,
    keys: createKeyStore(lazyDb),
    writer: lazyWriter,
    rateLimiter: options.rateLimit === false ? null : createRateLimiter(options.rateLimit),
    maxEventBytes: options.maxEventBytes ?? COLLECTOR_DEFAULTS.maxEventBytes,
    maxBatchBytes: options.maxBatchBytes ?? COLLECTOR_DEFAULTS.maxBatchBytes,
    logLevel: options.logLevel ?? COLLECTOR_DEFAULTS.logLevel,
    isShuttingDown: () => shuttingDown,
  });

  async function open(): Promise<void> {
    const opened =
      options.database ??
      (options.databaseUrl
        ? await openPgDatabase(options.databaseUrl)
        : await openPgliteDatabase(options.dataDir ?? COLLECTOR_DEFAULTS.dataDir));
    try {
      await migrate(opened, await loadMigrations(options.migrationsDir));
      for (const seed of options.projects ?? []) projects.push(await ensureProject(opened, seed));
      if (options.writeKey !== undefined || options.readToken !== undefined) {
        const seed: ProjectSeed = { id: 'default', name: 'Development' };
        if (options.writeKey !== undefined) seed.writeKey = options.writeKey;
        if (options.readToken !== undefined) seed.readToken = options.readToken;
        projects.push(await ensureProject(opened, seed));
      }
    } catch (error) {
      if (opened !== options.database) await opened.close();
      throw error;
    }
    db = opened;
    writer = createEventWriter(opened, {
      maxRows: options.writer?.maxRows,
      // A server runs statements in parallel; PGlite would only queue them.
      concurrency: options.writer?.concurrency ?? (opened.kind === 'postgres' ? 2 : 1),
    });
  }

  const collector: Collector = {
    get url() {
      if (url === undefined) throw new Error('[sightline] The collector is not listening: await collector.listen() first.');
      return url;
    },
    get database() {
      return requireDb();
    },
    app,
    projects,
    start() {
      if (closing) return Promise.reject(new Error('[sightline] The collector is closed; create a new one.'));
      started ??= open();
      return started;
    },
    async listen() {
      await collector.start();
      if (url !== undefined) return url;
      const address = await app.listen({ host, port });
      url = address.replace('://[::1]', '://localhost');
      return url;
    },
    close() {
      closing ??= (async () => {
        // A start still opening the database must finish, or its handle would leak.
        await started?.catch(() => {});
        shuttingDown = true;
        // Fastify stops accepting, answers 503 to new requests on open
        // connections and waits for the ones in flight, whose inserts finish.
        // A keep-alive connection that was busy when close began goes idle
        // only later and would hold close() until its timeout: sweep idle
        // ones until done, and cut the rest after the grace period.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        const force = setTimeout(() => app.server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(force);
        }
        await writer?.drain();
        if (db && db !== options.database) await db.close();
      })();
      return closing;
    },
    createProject: (seed = {}) => ensureProject(requireDb(), seed),
  };
  return collector;
}

/** Create a collector and start listening; resolves once it accepts events. */
export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const collector = createCollector(options);
  try {
    await collector.listen();
  } catch (error) {
    await collector.close();
    throw error;
  }
  return collector;
}
