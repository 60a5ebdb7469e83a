import type { WebSocket } from 'ws';
import type { KeyStore } from '../auth';
import { isObject } from '../json';
import { createRateLimiter } from '../rateLimiter';
import { isChannelName } from './channels';
import type { ConcurrencyLimit } from './concurrencyLimit';
import { errorText } from './frames';
import type { HubLogger, RealtimeHub } from './hubTypes';
import { createSocketSubscription, type SocketSubscription } from './socketSubscription';

/** Close codes of protocol 9.3 that the server sends. */
export const CLOSE = {
  goingAway: 1001,
  internal: 1011,
  badFrame: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  authTimeout: 4408,
  tooMany: 4429,
  slowConsumer: 4503,
} as const;

// A socket asked to close (4503, 1001) whose client does not complete the close handshake.
const TERMINATE_AFTER_MS = 5_000;
// A history page is sent once the previous one is down to this many bytes not yet handed to the OS.
const LOW_WATER_BYTES = 16 * 1024;

/** One open `GET /v1/realtime` socket. */
export interface SocketConnection {
  readonly ws: WebSocket;
  /** Close with `code`, and cut the connection if the client has not completed the close within `graceMs`. */
  close(code: number, reason: string, graceMs?: number): void;
  /** Protocol-level liveness: ping, and terminate if the previous ping got no pong. */
  heartbeat(): void;
}

export interface ConnectionDeps {
  hub: RealtimeHub;
  keys: KeyStore;
  log: HubLogger;
  /** Counts of slow-consumer closes, for tests and logs. */
  stats: { slowConsumers: number };
  /** Open sockets per project (`maxSocketsPerProject`), shared by every connection of the process. */
  sockets: ConcurrencyLimit;
}

/**
 * The server side of one socket (protocol 9.3): `auth` first, then `subscribe`, `unsubscribe`
 * and `ping`, handled strictly in order (auth and subscribes wait for the database, and the
 * client may send them all at once).
 */
export function handleConnection(ws: WebSocket, deps: ConnectionDeps, onEnd: () => void): SocketConnection {
  const { hub, keys, log } = deps;
  const { maxSubscriptions, maxBufferedBytes, authTimeoutMs, framesPerSecond, frameBurst } = hub.options;
  const subscriptions = new Map<string, SocketSubscription>();
  let projectId: string | null = null;
  let authSeen = false;
  let ended = false;
  let alive = true;
  let queue: Promise<void> = Promise.resolve();
  let killTimer: NodeJS.Timeout | undefined;
  let releaseSlot: (() => void) | null = null;
  // The ingest token bucket with one key: this socket's frames. It goes away with the socket.
  const frameBucket = createRateLimiter({ requestsPerSecond: framesPerSecond, burst: frameBurst });
  const drainWaiters = new Set<() => void>();

  const authTimer = setTimeout(() => close(CLOSE.authTimeout, 'auth timeout'), authTimeoutMs);

  function close(code: number, reason: string, graceMs = TERMINATE_AFTER_MS): void {
    if (ended || ws.readyState >= ws.CLOSING) return;
    clearTimeout(authTimer);
    ws.close(code, reason);
    killTimer = setTimeout(() => ws.terminate(), graceMs);
  }

  // One shared write callback: history pages wait until the socket's buffer is (nearly) empty
  // again. Nearly: a ping queued behind the page has no callback of its own.
  const afterWrite = () => {
    if (drainWaiters.size === 0 || (!ended && ws.bufferedAmount > LOW_WATER_BYTES)) return;
    for (const resolve of drainWaiters) resolve();
    drainWaiters.clear();
  };

  const send = (text: string): boolean => {
    if (ended || ws.readyState !== ws.OPEN) return false;
    ws.send(text, afterWrite);
    return true;
  };

  const socket = {
    send,
    sendLive(text: string): boolean {
      if (ended || ws.readyState !== ws.OPEN) return false;
      // Protocol 9.3: more than 1 MB waiting for this client ends it (4503) instead of growing memory.
      if (ws.bufferedAmount + text.length > maxBufferedBytes) {
        deps.stats.slowConsumers++;
        close(CLOSE.slowConsumer, 'slow consumer');
        return false;
      }
      ws.send(text, afterWrite);
      return true;
    },
    drained(): Promise<void> {
      if (ended || ws.bufferedAmount <= LOW_WATER_BYTES) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.add(resolve));
    },
    fail(error: unknown): void {
      log.warn({ err: error }, 'realtime: socket subscription failed');
      close(CLOSE.internal, 'internal error');
    },
  };

  async function handle(frame: Record<string, unknown>): Promise<void> {
    // Frames queued behind one that closed the socket (4400, 4429, ...) are not served.
    if (ended || ws.readyState !== ws.OPEN) return;
    const type = frame['type'];
    if (projectId === null) {
      if (type !== 'auth' || authSeen || typeof frame['token'] !== 'string' || frame['token'].length === 0) {
        return close(CLOSE.badFrame, 'auth first');
      }
      authSeen = true;
      const token = frame['token'];
      const project = await keys.projectForReadToken(token);
      if (ended || ws.readyState !== ws.OPEN) return;
      clearTimeout(authTimer);
      if (project === null) {
        // A write key is refused for good (4403); anything else may be a stale token (4401).
        const isWriteKey = (await keys.projectForWriteKey(token)) !== null;
        return close(isWriteKey ? CLOSE.forbidden : CLOSE.unauthorized, isWriteKey ? 'write key' : 'unknown token');
      }
      // Not ended yet, so the 'close' handler surely releases the slot.
      releaseSlot = deps.sockets.acquire(project);
      if (releaseSlot === null) return close(CLOSE.tooMany, 'too many connections for this project');
      projectId = project;
      send('{"type":"ready"}');
      return;
    }
    switch (type) {
      case 'subscribe':
        return subscribe(projectId, frame);
      case 'unsubscribe': {
        const channel = frame['channel'];
        if (typeof channel !== 'string') return;
        subscriptions.get(channel)?.stop();
        subscriptions.delete(channel);
        return;
      }
      case 'ping':
        send('{"type":"pong"}');
        return;
      default:
        // A second `auth` lands here too.
        return close(CLOSE.badFrame, 'unknown frame type');
    }
  }

  async function subscribe(project: string, frame: Record<string, unknown>): Promise<void> {
    const { channel, since = null, epoch = null } = frame;
    if ((since === null) !== (epoch === null)) return close(CLOSE.badFrame, 'since and epoch go together');
    if (since !== null && !(Number.isSafeInteger(since) && (since as number) >= 0)) return close(CLOSE.badFrame, 'bad since');
    if (epoch !== null && typeof epoch !== 'string') return close(CLOSE.badFrame, 'bad epoch');
    if (!isChannelName(channel)) {
      send(errorText(channel, 'invalid_channel', 'Not a channel: events, alerts, insights, health or metrics:<name>.'));
      return;
    }
    const previous = subscriptions.get(channel);
    if (!previous && subscriptions.size >= maxSubscriptions) {
      send(errorText(channel, 'too_many_subscriptions', `At most ${maxSubscriptions} channels per connection.`));
      return;
    }
    // Subscribing again restarts the channel from the new cursor.
    previous?.stop();
    const subscription = createSocketSubscription(hub, socket, project, channel);
    subscriptions.set(channel, subscription);
    await subscription.start(since as number | null, epoch as string | null);
  }

  ws.on('message', (data, isBinary) => {
    if (ended || ws.readyState !== ws.OPEN) return;
    // Protocol 9.3: a client flooding frames is closed (4429) rather than queueing work without bound.
    if (frameBucket.take('') > 0) return close(CLOSE.tooMany, 'too many frames');
    let frame: unknown;
    try {
      frame = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      frame = undefined;
    }
    if (!isObject(frame)) return close(CLOSE.badFrame, 'frames are JSON objects');
    const value = frame;
    queue = queue
      .then(() => handle(value))
      .catch((error: unknown) => {
        if (ended) return;
        log.warn({ err: error }, 'realtime: socket frame failed');
        close(CLOSE.internal, 'internal error');
      });
  });
  ws.on('pong', () => {
    alive = true;
  });
  ws.on('close', () => {
    ended = true;
    releaseSlot?.();
    clearTimeout(authTimer);
    clearTimeout(killTimer);
    for (const subscription of subscriptions.values()) subscription.stop();
    subscriptions.clear();
    for (const resolve of drainWaiters) resolve();
    drainWaiters.clear();
    onEnd();
  });

  return {
    ws,
    close,
    heartbeat() {
      if (ended) return;
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    },
  };
}
