import WebSocket from 'ws';
import { afterEach } from 'vitest';
import { createRealtimeClient, type RealtimeClient, type RealtimeEvent, type RealtimeOptions, type RealtimeState } from '../../index';
import { startProtocolServer, type ProtocolServer, type ProtocolServerOptions } from './protocolServer';

/** Short timings, so that retries, probes and heartbeats happen within a test. */
export const fast = {
  failoverMs: 300,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  probeMs: [150, 300] as const,
  readyTimeoutMs: 1000,
  heartbeatMs: 400,
  heartbeatTimeoutMs: 300,
  pollWaitSec: 2,
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
/** Run `fn` after the current test, whatever its outcome. */
export const onCleanup = (fn: () => unknown) => void cleanups.push(fn);

export async function server(options?: ProtocolServerOptions): Promise<ProtocolServer> {
  const s = await startProtocolServer(options);
  onCleanup(() => s.close());
  return s;
}

export interface Rig {
  client: RealtimeClient;
  states: [RealtimeState, string][];
  errors: Error[];
}

export function client(s: ProtocolServer, options: Partial<RealtimeOptions> = {}): Rig {
  const states: [RealtimeState, string][] = [];
  const errors: Error[] = [];
  const c = createRealtimeClient({
    url: s.url,
    getToken: () => 'read-token',
    WebSocket,
    onError: (e) => errors.push(e),
    ...options,
  });
  c.on('state', (st, r) => states.push([st, r]));
  onCleanup(() => c.close());
  return { client: c, states, errors };
}

/** Subscribe and record everything the listener receives. */
export function record(c: RealtimeClient, channel: string, options?: { since?: number; epoch?: string }) {
  const events: RealtimeEvent[] = [];
  const off = c.subscribe(channel, (e) => events.push(e), options);
  const seqs = () => events.filter((e) => e.type === 'message').map((e) => e.seq);
  return { events, seqs, off };
}

export async function waitFor(check: () => unknown, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for ' + what);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** `[1, 2, ..., n]` offset by `from`. */
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
