import pg from 'pg';
import type { Queryable } from '../database';

/** The NOTIFY channel every collector process on one database listens to (lowercase, unquoted). */
export const NOTIFY_CHANNEL = 'sightline_realtime';
/** PostgreSQL refuses payloads of 8,000 bytes or more; stay well below. */
export const MAX_PAYLOAD_BYTES = 7_900;
/** `application_name` of the LISTEN connection (operators find and kill it by this). */
export const LISTEN_APPLICATION_NAME = 'sightline-realtime';

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
const PING_INTERVAL_MS = 30_000;
const PING_TIMEOUT_MS = 5_000;
const END_TIMEOUT_MS = 1_000;

/** A pointer: messages up to `lastSeq` of `channel` of project `projectId` were committed. */
export type ChannelPointer = [projectId: string, channel: string, lastSeq: number];

/** What the notifier tells the hub. */
export interface FanoutSink {
  /** Another process (or this one, echoed) committed messages up to `lastSeq`. */
  changed(projectId: string, channel: string, lastSeq: number): void;
  /** The LISTEN connection was (re)established: notifications may have been missed, compare with the database. */
  resync(): void;
}

/** Cross-process fan-out, as the hub uses it. */
export interface Fanout {
  /** Messages up to `lastSeq` were committed by this process: tell the others (after commit, coalesced). */
  touch(projectId: string, channel: string, lastSeq: number): void;
  /** Stop listening now, send what is pending (bounded), release the connection. Idempotent. */
  close(): Promise<void>;
}

export interface FanoutLogger {
  warn(fields: object, message: string): void;
}

/**
 * Split pointers into JSON payloads `[[project, channel, lastSeq], ...]` of at most `maxBytes`
 * bytes each. A single pointer over the limit cannot happen with protocol channel names and
 * project ids of sane length; it is dropped (the safety check still covers it).
 */
export function splitPayloads(pointers: readonly ChannelPointer[], maxBytes = MAX_PAYLOAD_BYTES): string[] {
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const pointer of pointers) {
    const text = JSON.stringify(pointer);
    const bytes = Buffer.byteLength(text);
    if (bytes + 2 > maxBytes) continue;
    if (parts.length > 0 && size + 1 + bytes > maxBytes) {
      payloads.push(`[${parts.join(',')}]`);
      parts = [];
      size = 2;
    }
    size += (parts.length > 0 ? 1 : 0) + bytes;
    parts.push(text);
  }
  if (parts.length > 0) payloads.push(`[${parts.join(',')}]`);
  return payloads;
}

/** Parse a payload; malformed entries are skipped. */
export function parsePayload(payload: string | undefined): ChannelPointer[] {
  if (!payload) return [];
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p: unknown): p is ChannelPointer =>
      Array.isArray(p) && p.length === 3 && typeof p[0] === 'string' && typeof p[1] === 'string' && Number.isSafeInteger(p[2]),
  );
}

/**
 * LISTEN/NOTIFY fan-out on PostgreSQL (docs/decisions/0009, "Cross-process fan-out").
 *
 * Send: pointers queue up and one autocommit `SELECT pg_notify(...)` per payload runs through
 * `send` (the pool), after the messages' commit and never inside a bigger transaction (a pending
 * NOTIFY takes a database-wide lock at commit). One flush in flight; later touches merge into the
 * next. A failed NOTIFY is logged and dropped: the hub's 5 s safety check covers it.
 *
 * Receive: one dedicated `pg.Client` (a pooled connection would lose its LISTEN when recycled),
 * never in a transaction; reconnects with backoff (1-30 s) and then asks the hub to resync, and
 * pings every 30 s so that a silently dead socket is noticed.
 */
export function createPgFanout(url: string, send: Queryable, sink: FanoutSink, log: FanoutLogger): Fanout {
  const pending = new Map<string, ChannelPointer>();
  let flushing: Promise<void> | undefined;
  let closed = false;
  let client: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let pingTimer: NodeJS.Timeout | undefined;

  async function flushLoop(): Promise<void> {
    while (pending.size > 0) {
      const pointers = [...pending.values()];
      pending.clear();
      for (const payload of splitPayloads(pointers)) {
        try {
          await send.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, payload]);
        } catch (error) {
          log.warn({ err: error }, 'realtime: NOTIFY failed; other processes catch up within 5 s');
        }
      }
    }
  }

  function flush(): void {
    if (flushing) return;
    // The next tick: touches of the same turn (a batch over several channels) share a NOTIFY.
    flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(flushLoop)
      .finally(() => {
        flushing = undefined;
        if (pending.size > 0 && !closed) flush();
      });
  }

  function connect(): void {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, application_name: LISTEN_APPLICATION_NAME, keepAlive: true });
    client = c;
    let dead = false;
    const lost = (error?: unknown) => {
      if (dead) return;
      dead = true;
      if (client === c) client = undefined;
      void c.end().catch(() => {});
      if (closed) return;
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** failures);
      failures++;
      log.warn({ error: (error as Error | undefined)?.message, retryInMs: delay }, 'realtime: LISTEN connection lost; reconnecting');
      reconnectTimer = setTimeout(connect, delay);
      reconnectTimer.unref();
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('connection ended')));
    c.on('notification', (message) => {
      if (message.channel !== NOTIFY_CHANNEL) return;
      for (const [projectId, channel, lastSeq] of parsePayload(message.payload)) sink.changed(projectId, channel, lastSeq);
    });
    c.connect()
      .then(() => c.query(`LISTEN ${NOTIFY_CHANNEL}`))
      .then(() => {
        if (dead) return;
        if (closed) return void c.end().catch(() => {});
        failures = 0;
        // Whatever was committed while nobody listened: compare with the database now.
        sink.resync();
      })
      .catch(lost);
  }

  async function ping(): Promise<void> {
    const c = client;
    if (!c || closed) return;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      c.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    // A socket that stopped answering: cut it, and 'end' reconnects.
    if (!ok && client === c) (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  connect();
  pingTimer = setInterval(() => void ping(), PING_INTERVAL_MS);
  pingTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    touch(projectId, channel, lastSeq) {
      if (closed) return;
      const key = `${projectId}\u0000${channel}`;
      const previous = pending.get(key);
      if (!previous || previous[2] < lastSeq) pending.set(key, [projectId, channel, lastSeq]);
      flush();
    },
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(reconnectTimer);
        clearInterval(pingTimer);
        const c = client;
        client = undefined;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([c?.end(), flushing]),
          new Promise((resolve) => (timer = setTimeout(resolve, END_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        // Still not ended (a dead socket): cut it.
        (c as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection?.stream?.destroy();
      })();
      return closing;
    },
  };
}
