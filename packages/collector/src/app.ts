import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { KeyStore } from './auth';
import { readBody } from './bodyReader';
import type { BufferPool } from './bufferPool';
import type { Database } from './database';
import { HttpError, type ErrorCode } from './errors';
import type { EventWriter } from './eventWriter';
import type { RateLimiter } from './rateLimiter';
import type { RealtimeHub } from './realtime/hubTypes';
import { registerRealtimeRoutes } from './realtime/plugin';
import { getLogFields, pathOf } from './requestLog';
import { registerEventRoutes } from './routes/events';
import { registerHealthRoute } from './routes/health';
import { registerIngestRoutes, type Backlog } from './routes/ingest';

/** Pino levels, plus `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything the HTTP layer needs. */
export interface AppDeps {
  db: Database;
  keys: KeyStore;
  writer: EventWriter;
  rateLimiter: RateLimiter | null;
  maxEventBytes: number;
  maxBatchBytes: number;
  logLevel: LogLevel;
  /** Where JSON log lines go; stdout when absent. */
  logDestination?: { write(line: string): unknown } | undefined;
  /** Rows queued for insert, bounded by `maxQueuedRows`. */
  backlog: Backlog;
  /** Where request bodies are read; the ingest routes give each back once decoded. */
  buffers: BufferPool;
  /** Longest a request may take, body upload included (Node's `requestTimeout`). */
  requestTimeoutMs: number;
  /** Longest a connection may stay inactive (Node's socket timeout). */
  connectionTimeoutMs: number;
  /** True once `close()` began: answers then ask the client to close the connection. */
  isShuttingDown: () => boolean;
  /** Channels, cursors and fan-out of `/v1/realtime` and `/v1/realtime/poll`. */
  realtime: RealtimeHub;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_body',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_encoding',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Build the Fastify app: CORS, lenient body reading, routes, error bodies. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logDestination ? { level: deps.logLevel, stream: deps.logDestination } : { level: deps.logLevel },
    // A client that trickles its body or never finishes it must not hold a
    // connection (and its buffered bytes) forever.
    requestTimeout: deps.requestTimeoutMs,
    connectionTimeout: deps.connectionTimeoutMs,
    // One log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify's own shutdown 503 skips CORS and our error body; the
    // preParsing hook below answers instead.
    return503OnClosing: false,
  });

  void app.register(cors, {
    // Browsers on any site send events; reflecting the origin also works where '*' does not.
    origin: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    // No allowedHeaders: the plugin reflects Access-Control-Request-Headers, which
    // covers Segment's and RudderStack's custom ones (AnonymousId, SentAt, rsa-*).
    exposedHeaders: ['Retry-After'],
    maxAge: 86_400,
  });

  // JSON arrives as text/plain (beacons), with no type, or gzipped: read bytes
  // for every type (readBody holds them to maxBatchBytes, Fastify's bodyLimit
  // applies only to its own readers) and decode in the route, where limits and
  // errors are ours (gzip bodies are checked again once inflated).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage) =>
    readBody(payload, request.headers['content-length'], deps.maxBatchBytes, deps.buffers),
  );

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      void reply.headers(error.headers).code(error.statusCode).send(error.toBody());
      return;
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid_body');
    const message = status >= 500 ? 'Internal error.' : error.message;
    void reply.code(status).send(new HttpError(status, code, message).toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new HttpError(404, 'not_found', `No route for ${request.method} ${pathOf(request.url)}.`).toBody());
  });

  // Node keeps a keep-alive connection open after its last answer; during
  // shutdown tell the client to reconnect instead, so close() ends promptly.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (deps.isShuttingDown()) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    // The path only: a beacon's query string carries its write key.
    request.log.info(
      { method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime), ...getLogFields(request) },
      'request',
    );
    done();
  });

  // Routes in a plugin registered after CORS, so its hooks surely cover them.
  void app.register(async (scope) => {
    // After CORS (an onRequest hook), before the body is read: during
    // shutdown refuse new work so every accepted event is stored before exit.
    scope.addHook('preParsing', async () => {
      if (deps.isShuttingDown()) {
        throw new HttpError(503, 'unavailable', 'The collector is shutting down; retry shortly.', null, { 'retry-after': '1' });
      }
    });
    registerIngestRoutes(scope, deps);
    registerEventRoutes(scope, deps);
    registerHealthRoute(scope, deps.db);
    void scope.register((realtime) => registerRealtimeRoutes(realtime, { hub: deps.realtime, keys: deps.keys }));
  });
  return app;
}
