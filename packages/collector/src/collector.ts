import type { FastifyInstance } from 'fastify';
import { buildApp, type LogLevel } from './app';
import { BufferPool } from './bufferPool';
import { createKeyStore } from './auth';
import { ensureProject, type ProjectCredentials, type ProjectSeed } from './credentials';
import type { Database } from './database';
import { createEventWriter, type EventWriter, type EventWriterOptions } from './eventWriter';
import { loadMigrations, migrate } from './migrate';
import { openPgDatabase } from './pgDatabase';
import { openPgliteDatabase } from './pgliteDatabase';
import { createRateLimiter, type RateLimitOptions } from './rateLimiter';
import { createRealtimeHub } from './realtime/hub';
import type { RealtimePublisher } from './realtime/hubTypes';
import { createMetricsPublisher } from './realtime/metricsPublisher';
import { createPgFanout } from './realtime/notifier';
import { resolveRealtimeOptions, type RealtimeOptions } from './realtime/options';
import { sweepRetention } from './retention';
import { storedEventOf } from './routes/events';
import type { Backlog } from './routes/ingest';

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
   * Days the `writeKey` shorthand project keeps events (updated at every
   * start when given).
   * @default 365 for a new project
   */
  retentionDays?: number | undefined;
  /**
   * Structured (pino JSON) log level.
   * @default 'info'
   */
  logLevel?: LogLevel | undefined;
  /**
   * Where the JSON log lines go.
   * @default stdout
   */
  logDestination?: { write(line: string): unknown } | undefined;
  /**
   * Per-write-key token bucket; `false` turns it off. Buckets live in the
   * process: N collectors behind a load balancer allow up to N times the rate.
   * @default { requestsPerSecond: 1000, burst: 2000 }
   */
  rateLimit?: RateLimitOptions | false | undefined;
  /**
   * Most event rows queued or being inserted at once; past it, ingest answers
   * `503 unavailable` with `Retry-After: 1` instead of queueing more.
   * @default 50000
   */
  maxQueuedRows?: number | undefined;
  /**
   * How often to delete events older than their project's `retentionDays`
   * (a first sweep runs a few seconds after start); `false` or `0` turns it off.
   * @default 3600000 (hourly)
   */
  retentionIntervalMs?: number | false | undefined;
  /**
   * Longest a request may take, body upload included, before Node answers 408.
   * @default 30000
   */
  requestTimeoutMs?: number | undefined;
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
  writer?: Pick<EventWriterOptions, 'maxRows' | 'concurrency'> | undefined;
  /**
   * On `close()`, how long requests in flight may take before their
   * connections are cut, and then how long queued inserts may take before
   * the database is closed anyway (the count left is logged).
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Folder of the `NNNN_name.sql` migrations.
   * @default the package's `migrations/`
   */
  migrationsDir?: string | undefined;
  /** Realtime (`/v1/realtime`, `/v1/realtime/poll`): history bounds and per-socket limits. */
  realtime?: RealtimeOptions | undefined;
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
  /**
   * Delete events older than their project's retention now (what the
   * periodic sweep runs); resolves with the number deleted.
   */
  sweepRetention(): Promise<number>;
  /**
   * Publish to realtime channels of a project (`collector.realtime.publish(projectId, 'alerts',
   * 'alert', [alert])`), and tell them about stored events (`eventsStored`). Works once started.
   */
  readonly realtime: RealtimePublisher;
}

/** Defaults of {@link CollectorOptions}, shared with the CLI. */
export const COLLECTOR_DEFAULTS = {
  host: '127.0.0.1',
  port: 4318,
  dataDir: './.sightline-data',
  logLevel: 'info',
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxQueuedRows: 50_000,
  retentionIntervalMs: 3_600_000,
  requestTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
} as const;

// Socket inactivity limit; above the request timeout so that one answers first.
const CONNECTION_TIMEOUT_MS = 60_000;
// The first retention sweep runs this long after start, off the start-up path.
const FIRST_SWEEP_DELAY_MS = 5_000;

const NOT_STARTED = '[sightline] The collector is not started: await collector.start() or listen() first.';

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
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  const projects: ProjectCredentials[] = [];
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? COLLECTOR_DEFAULTS.shutdownTimeoutMs;
  const backlog: Backlog = { rows: 0, max: Math.max(1, options.maxQueuedRows ?? COLLECTOR_DEFAULTS.maxQueuedRows) };
  // Request bodies and their COPY data (about 300 KB each per 500-event batch) in reused memory:
  // 16 of 512 KiB kept at most, about as many as the requests and COPY groups in flight under load.
  const buffers = new BufferPool(512 * 1024, 16);

  const requireDb = (): Database => {
    if (!db) throw new Error(NOT_STARTED);
    return db;
  };
  const requireWriter = (): EventWriter => {
    if (!writer) throw new Error(NOT_STARTED);
    return writer;
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
    write: (projectId, receivedAt, rows) => requireWriter().write(projectId, receivedAt, rows),
    drain: () => writer?.drain() ?? Promise.resolve(),
  };
  const keys = createKeyStore(lazyDb);
  // The realtime pieces report their failures through the app's logger.
  const warnLog = { warn: (fields: object, message: string) => app.log.warn(fields, message) };
  const realtime = createRealtimeHub(lazyDb, resolveRealtimeOptions(options.realtime), warnLog);
  const metrics = createMetricsPublisher(lazyDb, realtime, warnLog);
  const app = buildApp({
    db: lazyDb,
    keys,
    writer: lazyWriter,
    rateLimiter: options.rateLimit === false ? null : createRateLimiter(options.rateLimit),
    maxEventBytes: options.maxEventBytes ?? COLLECTOR_DEFAULTS.maxEventBytes,
    maxBatchBytes: options.maxBatchBytes ?? COLLECTOR_DEFAULTS.maxBatchBytes,
    logLevel: options.logLevel ?? COLLECTOR_DEFAULTS.logLevel,
    logDestination: options.logDestination,
    backlog,
    buffers,
    requestTimeoutMs: options.requestTimeoutMs ?? COLLECTOR_DEFAULTS.requestTimeoutMs,
    connectionTimeoutMs: Math.max(CONNECTION_TIMEOUT_MS, options.requestTimeoutMs ?? 0),
    isShuttingDown: () => shuttingDown,
    realtime,
  });

  // One sweep at a time; close() waits for the one running.
  function runSweep(): Promise<number> {
    sweeping ??= (async () => {
      try {
        const deleted = await sweepRetention(requireDb());
        app.log[deleted > 0 ? 'info' : 'debug']({ deleted }, 'retention sweep: deleted expired events');
        return deleted;
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  }

  function scheduleSweeps(): void {
    const interval = options.retentionIntervalMs ?? COLLECTOR_DEFAULTS.retentionIntervalMs;
    if (interval === false || !(interval > 0)) return;
    const tick = (delay: number) => {
      sweepTimer = setTimeout(() => {
        runSweep()
          .catch((error: unknown) => app.log.warn({ err: error }, 'retention sweep failed'))
          .finally(() => {
            if (!shuttingDown) tick(interval);
          });
      }, delay);
      // The sweep never keeps the process alive on its own.
      sweepTimer.unref();
    };
    tick(Math.min(FIRST_SWEEP_DELAY_MS, interval));
  }

  async function open(): Promise<void> {
    const opened =
      options.database ??
      (options.databaseUrl
        ? await openPgDatabase(options.databaseUrl, {
            // Message and code only: pg attaches the whole client to its errors.
            onError: (error) =>
              app.log.warn(
                { error: error.message, code: (error as { code?: unknown }).code },
                'idle PostgreSQL connection failed; the pool reconnects',
              ),
          })
        : await openPgliteDatabase(options.dataDir ?? COLLECTOR_DEFAULTS.dataDir, {
            onWorkerExit: (error) => app.log.error({ error: error.message }, 'PGlite worker stopped; the next statement opens the database again'),
          }));
    try {
      await migrate(opened, await loadMigrations(options.migrationsDir));
      for (const seed of options.projects ?? []) projects.push(await ensureProject(opened, seed));
      if (options.writeKey !== undefined || options.readToken !== undefined) {
        const seed: ProjectSeed = { id: 'default', name: 'Development' };
        if (options.writeKey !== undefined) seed.writeKey = options.writeKey;
        if (options.readToken !== undefined) seed.readToken = options.readToken;
        if (options.retentionDays !== undefined) seed.retentionDays = options.retentionDays;
        projects.push(await ensureProject(opened, seed));
      }
    } catch (error) {
      if (opened !== options.database) await opened.close();
      throw error;
    }
    db = opened;
    writer = createEventWriter(opened, {
      buffers,
      // On a server, groups small enough that the database and the parsing of the next requests
      // both stay busy (decision 0017); PGlite runs one statement at a time and gains from fewer.
      maxRows: options.writer?.maxRows ?? (opened.kind === 'postgres' ? 1500 : 5000),
      // A server runs statements in parallel; PGlite would only queue them.
      concurrency: options.writer?.concurrency ?? (opened.kind === 'postgres' ? 2 : 1),
      // Live `events` and `metrics:*` subscribers get what was stored; nothing is built while nobody watches.
      onStored: (projectId, receivedAt, rows) => {
        if (realtime.isLive(projectId, 'events')) void realtime.eventsStored(projectId, rows.map((row) => storedEventOf(row, receivedAt)));
        metrics.stored(projectId, receivedAt, rows);
      },
    });
    if (!shuttingDown) {
      scheduleSweeps();
      // Several processes on one PostgreSQL: LISTEN/NOTIFY carries commits between them. A database
      // handed in without a URL gets only the 5 s safety check.
      const listenUrl = opened.kind === 'postgres' && opened !== options.database ? options.databaseUrl : undefined;
      // Before the first request: the leases already in the database decide what ingest publishes.
      await realtime.start(
        listenUrl === undefined
          ? undefined
          : (sink) => createPgFanout(listenUrl, opened, sink, warnLog),
      );
      metrics.start();
    }
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
        clearTimeout(sweepTimer);
        // Waiting polls answer now and sockets close with 1001, so app.close() is not held by them.
        realtime.shutdown();
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        const force = setTimeout(() => app.server.closeAllConnections(), shutdownTimeoutMs);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(force);
        }
        // A database that stopped answering must not hold the process forever:
        // give the queued inserts the same grace, then close anyway.
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          Promise.all([writer?.drain(), sweeping?.catch(() => {})]).then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), shutdownTimeoutMs))),
        ]);
        clearTimeout(timer);
        if (!drained) {
          app.log.error(
            { queuedRows: backlog.rows, timeoutMs: shutdownTimeoutMs },
            'shutdown: inserts still queued after the timeout; closing the database without them',
          );
        }
        // Publishes of the last inserts (and their metric totals) finish before the database closes; later ones are dropped.
        await metrics.close(shutdownTimeoutMs);
        await realtime.close(shutdownTimeoutMs);
        if (db && db !== options.database) await db.close();
      })();
      return closing;
    },
    async createProject(seed = {}) {
      const credentials = await ensureProject(requireDb(), seed);
      // Its key may have been tried (and cached as unknown) a moment ago.
      keys.forgetMisses();
      return credentials;
    },
    sweepRetention: () => runSweep(),
    realtime: { publish: realtime.publish, eventsStored: realtime.eventsStored },
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
