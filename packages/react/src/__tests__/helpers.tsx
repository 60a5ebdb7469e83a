// Shared by the React tests: the real collector in-process, its stored events, its realtime publish
// path, and a recording stand-in for unit tests of the tracking hooks.
import type { Analytics } from '@sightline/core';
import { createRealtimeClient, type RealtimeClient, type RealtimeOptions } from '@sightline/realtime';
import { fetchRecentEvents, startInProcessCollector, type InProcessCollector, type StoredEvent } from '@sightline/testing';
import WebSocket from 'ws';
import { afterAll, beforeAll } from 'vitest';

export const PROJECT = { id: 'react', writeKey: 'wk-react', readToken: 'rt-react' };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it holds, or fail after `timeoutMs` saying `what`. Generous: other suites share the machine. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<Awaited<T>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<Awaited<T>>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface TestCollector {
  url: string;
  collector: InProcessCollector['collector'];
  /** Stored events of the project, oldest first. */
  events(): Promise<StoredEvent[]>;
  /** Publishes through `collector.realtime.publish` once someone subscribes to `channel` (it drops messages before). */
  publish(channel: string, kind: string, data: readonly unknown[]): Promise<void>;
  /**
   * Publishes `data` (idempotent for the reader: the same metric buckets, the same alert states) until
   * `check` holds: a channel another test's client left still counts as live for a while, so a first
   * publish can precede this client's subscription.
   */
  publishUntil(channel: string, kind: string, data: readonly unknown[], check: () => unknown, what: string): Promise<void>;
  /** A real realtime client with the project's read token, `ws` for a WebSocket (the socket path, no failover to polls under load). */
  realtimeOptions(): RealtimeOptions;
  realtimeClient(): RealtimeClient;
}

/** The real collector (PGlite) for this file's tests: started before them, closed after. */
export function useCollector(): TestCollector {
  let started: InProcessCollector;
  beforeAll(async () => {
    started = await startInProcessCollector({ projects: [PROJECT] });
  });
  afterAll(() => started?.close());
  const api: TestCollector = {
    get url() {
      return started.url;
    },
    get collector() {
      return started.collector;
    },
    events: async () => (await fetchRecentEvents(started.url, PROJECT.readToken)).reverse(),
    async publish(channel, kind, data) {
      await until(() => started.collector.realtime.publish(PROJECT.id, channel, kind, data), `a subscriber on ${channel}`);
    },
    async publishUntil(channel, kind, data, check, what) {
      const end = Date.now() + 15_000;
      for (;;) {
        await api.publish(channel, kind, data);
        try {
          return void (await until(check, what, 1000));
        } catch (error) {
          if (Date.now() > end) throw error;
        }
      }
    },
    realtimeOptions: () => ({ url: started.url, getToken: () => PROJECT.readToken, WebSocket, failoverMs: 20_000 }),
    realtimeClient: () => createRealtimeClient(api.realtimeOptions()),
  };
  return api;
}

/** Core options for the test project: memory queue (no IndexedDB left between tests), quick batches. */
export const analyticsConfig = (url: string) => ({ writeKey: PROJECT.writeKey, host: url, storage: 'memory' as const, flushInterval: 50 });

/** A stand-in client that records calls, for the hooks' unit tests. */
export function recordingClient() {
  const calls: [string, ...unknown[]][] = [];
  const record =
    (method: string) =>
    (...args: unknown[]) =>
      void calls.push([method, ...args]);
  const client = new Proxy({} as Record<string, unknown>, {
    get: (target, method: string) => (target[method] ??= method == 'flush' || method == 'shutdown' ? async () => void calls.push([method]) : record(method)),
  }) as unknown as Analytics;
  return { client, calls, of: (method: string) => calls.filter((c) => c[0] == method).map((c) => c.slice(1)) };
}
