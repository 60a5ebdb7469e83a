import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type {} from '../../../testing/src/globalSetup';
import { createDatabase } from '../../../testing/src/postgres';
import { loadMigrations, migrate, openPgDatabase, openPgliteDatabase, startCollector, type Collector, type CollectorOptions, type Database, type EventRow } from '../index';

/** The two storages every behaviour is tested on. */
export const BACKENDS = ['pglite', 'postgres'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The storage of one test file on one backend. */
export interface TestBackend {
  readonly name: BackendName;
  /** Options pointing a collector at this file's storage (the same on every call, so restarts see old rows). */
  storage(): CollectorOptions;
}

/**
 * Give the enclosing describe its own storage: a temp PGlite folder, or a
 * fresh database on the run's PostgreSQL server. Removed after the block.
 */
export function useBackend(name: BackendName): TestBackend {
  let storage: CollectorOptions | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (name === 'pglite') {
      const dir = await mkdtemp(join(tmpdir(), 'sightline-pglite-'));
      storage = { dataDir: dir };
      cleanup = () => rm(dir, { recursive: true, force: true });
    } else {
      const db = await createDatabase(inject('databaseUrl'));
      storage = { databaseUrl: db.url };
      cleanup = db.drop;
    }
  });
  afterAll(async () => {
    await cleanup?.();
  });
  return {
    name,
    storage() {
      if (!storage) throw new Error('useBackend: storage is ready only inside tests and hooks.');
      return storage;
    },
  };
}

/** A migrated database on the block's storage, open from its `beforeAll` to its `afterAll`. */
export function useMigratedDatabase(backend: TestBackend): () => Database {
  let db: Database | undefined;
  beforeAll(async () => {
    const storage = backend.storage();
    db = storage.databaseUrl !== undefined ? await openPgDatabase(storage.databaseUrl) : await openPgliteDatabase(storage.dataDir!);
    await migrate(db, await loadMigrations());
  });
  afterAll(async () => {
    await db?.close();
  });
  return () => db!;
}

/** A valid row as validation makes it (a `track` of `E` by anonymous `a`), with `overrides`. */
export function eventRow(overrides: Partial<EventRow> = {}): EventRow {
  return {
    messageId: 'm',
    type: 'track',
    event: 'E',
    name: null,
    userId: null,
    anonymousId: 'a',
    groupId: null,
    previousId: null,
    sessionId: null,
    timestamp: '2026-01-01T00:00:00.000Z',
    sentAt: null,
    properties: '{}',
    traits: '{}',
    context: '{}',
    ...overrides,
  };
}

/** Binary COPY tuples of text fields (null for NULL), without header and trailer, as `copyIn` takes them. */
export function copyTuples(rows: ReadonlyArray<ReadonlyArray<string | null>>): Buffer {
  const parts: Buffer[] = [];
  for (const fields of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(fields.length);
    parts.push(count);
    for (const field of fields) {
      const bytes = field === null ? Buffer.alloc(0) : Buffer.from(field);
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** How many tuples binary COPY data holds (no header or trailer). */
export function countTuples(data: Buffer): number {
  let tuples = 0;
  for (let at = 0; at < data.length; tuples++) {
    const fields = data.readInt16BE(at);
    at += 2;
    for (let i = 0; i < fields; i++) at += 4 + Math.max(0, data.readInt32BE(at));
  }
  return tuples;
}

/** Start a collector on a random port with quiet logs and no rate limit unless asked. */
export function startTestCollector(backend: TestBackend, options: CollectorOptions = {}): Promise<Collector> {
  return startCollector({ port: 0, logLevel: 'warn', rateLimit: false, ...backend.storage(), ...options });
}

/**
 * Two collectors on the block's storage, started in its `beforeAll` and closed in its `afterAll`.
 * On PostgreSQL that is two hubs, two pools and two LISTEN connections on one database: the path of
 * two processes (nothing is shared in memory), and faster. Read `a` and `b` inside tests and hooks.
 */
export function useTwoCollectors(backend: TestBackend, options: CollectorOptions = {}): { a: Collector; b: Collector } {
  const pair = {} as { a: Collector; b: Collector };
  beforeAll(async () => {
    pair.a = await startTestCollector(backend, options);
    pair.b = await startTestCollector(backend, options);
  });
  afterAll(async () => {
    await pair.b?.close();
    await pair.a?.close();
  });
  return pair;
}

/** `Authorization: Basic base64(writeKey + ":")`, as Segment's libraries send it. */
export function basic(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** A valid track event with a fresh messageId. */
export function trackEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'track',
    event: 'Button Clicked',
    messageId: randomUUID(),
    anonymousId: 'anon-1',
    timestamp: new Date().toISOString(),
    properties: { plan: 'pro', price: 9.5 },
    context: { library: { name: 'test', version: '0.0.0' } },
    ...overrides,
  };
}

/** The JSON answer of a request, with its status and headers. */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** POST JSON (or raw bytes) and read the JSON answer. */
export async function post(
  url: string,
  body: unknown,
  init: { writeKey?: string; headers?: Record<string, string>; raw?: Uint8Array | string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.writeKey !== undefined) headers['authorization'] = basic(init.writeKey);
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: init.raw === undefined ? JSON.stringify(body) : typeof init.raw === 'string' ? init.raw : new Uint8Array(init.raw),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** `GET /v1/events/recent` with a bearer token. */
export async function recent(baseUrl: string, token: string, limit?: number): Promise<Answer> {
  const query = limit === undefined ? '' : `?limit=${limit}`;
  const response = await fetch(`${baseUrl}/v1/events/recent${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * The plans of `queries` with sequential scans off, so that each shows an index that can serve it.
 * In one transaction: on a pool, SET would otherwise reach one connection and EXPLAIN another.
 */
export async function plansWithoutSeqScan(db: Database, queries: readonly string[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL enable_seqscan = off');
    const plans: string[] = [];
    for (const sql of queries) {
      const { rows } = await tx.query<Record<string, string>>(`EXPLAIN ${sql}`);
      plans.push(rows.map((row) => Object.values(row)[0]).join('\n'));
    }
    return plans;
  });
}
