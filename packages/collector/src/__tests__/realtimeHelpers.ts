import WebSocket from 'ws';
import { afterEach } from 'vitest';

/** Poll `check` until it is truthy, or fail after `timeoutMs` with `what`. */
export async function waitFor(check: () => unknown, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `[from, ..., to]`. */
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The `ws://` URL of the socket endpoint of a collector at `http://...`. */
export const socketUrl = (url: string) => `${url.replace(/^http/, 'ws')}/v1/realtime`;

/** A raw protocol socket: every frame it receives (parsed), and how it closed. */
export interface RawSocket {
  ws: WebSocket;
  frames: any[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  /** Frames of one type (and channel). */
  of(type: string, channel?: string): any[];
}

export function rawSocket(url: string): RawSocket {
  const ws = new WebSocket(socketUrl(url));
  const frames: any[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return {
    ws,
    frames,
    opened,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    of: (type, channel) => frames.filter((f) => f.type === type && (channel === undefined || f.channel === channel)),
  };
}

/** A raw socket that sent `auth` and got `ready`. */
export async function readySocket(url: string, token: string): Promise<RawSocket> {
  const socket = rawSocket(url);
  await socket.opened;
  socket.send({ type: 'auth', token });
  await waitFor(() => socket.of('ready').length === 1, 5000, 'ready');
  return socket;
}

/** `GET /v1/realtime/poll` with `[channel, since, epoch]` triples. */
export async function poll(
  url: string,
  token: string | null,
  channels: [string, number | null, string | null][],
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; ms: number }> {
  const q = new URLSearchParams();
  for (const [channel, since, epoch] of channels) {
    q.append('channel', channel);
    q.append('since', since === null ? '' : String(since));
    q.append('epoch', epoch ?? '');
  }
  for (const [k, v] of Object.entries(extra)) q.append(k, v);
  const started = Date.now();
  const response = await fetch(`${url}/v1/realtime/poll?${q}`, {
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, ms: Date.now() - started };
}

/**
 * Cleanups run after each test, newest first, and `track(socket)`, which terminates the socket then.
 * Call once at the top of a test file.
 */
export function useCleanups(): { cleanups: (() => unknown)[]; track: (socket: RawSocket) => RawSocket } {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = (socket: RawSocket): RawSocket => {
    cleanups.push(() => socket.ws.terminate());
    return socket;
  };
  return { cleanups, track };
}
