import ReconnectingWebSocket from 'reconnecting-websocket';
import type { RealtimeOptions, WebSocketClass } from './types';

/** Why a socket went away: an attempt that never became `ready`, a lost one, or a silent one. */
export type SocketDown = 'socket-failed' | 'socket-closed' | 'heartbeat-timeout';

export interface SocketDeps {
  url: string;
  o: RealtimeOptions;
  backoff(attempt: number): number;
  /** The token for `auth`, and whether it was asked for with `forceRefresh`; rejects after reporting. */
  token(): Promise<[string, boolean]>;
  /** `auth` went out: send the `subscribe` frames now (`send` works from here on). */
  onAuth(): void;
  onReady(): void;
  onFrame(frame: any): void;
  /** `forced`: the socket's token came from a forced refresh (a second 4401 in a row). */
  onDown(why: SocketDown, code: number, forced: boolean): void;
}

export interface SocketTransport {
  /** Connect now with a fresh attempt budget (creation, back online). */
  start(): void;
  /** Close the socket and cancel every retry, probe and heartbeat. */
  stop(): void;
  /** Check a live socket at once (`ping`), or probe now if waiting for the next probe. */
  wake(): void;
  /** Send a frame on an authenticated socket; returns whether it went out. */
  send(frame: object): boolean;
}

type Raw = WebSocket & { terminate?(): void };

/**
 * The WebSocket side: `reconnecting-websocket` retries with this client's own full-jitter delays;
 * after `reconnectAttempts` failures in a row the instance is dropped and a new one probes now and
 * then. One timer at a time serves the `ready` timeout, the heartbeat and the next probe.
 */
export function createSocketTransport(d: SocketDeps): SocketTransport {
  const {
    WebSocket = (globalThis as { WebSocket?: WebSocketClass }).WebSocket!,
    reconnectAttempts = 5,
    probeMs: [probeMin, probeMax] = [10_000, 20_000],
    readyTimeoutMs = 5000,
    heartbeatMs = 10_000,
    heartbeatTimeoutMs = 5000,
  } = d.o;
  let rws: ReconnectingWebSocket | undefined;
  let raw: Raw | undefined;
  // The socket that `auth` was sent on: frames before it would be a 4400.
  let authed: Raw | undefined;
  let ready = false;
  let probing = false;
  let forced = false;
  let failures = 0;
  let lastCode = 0;
  let readyAt = 0;
  let lastRx = 0;
  let pingAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const later = (fn: () => void, ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  const put = (ws: Raw, frame: object) => ws.readyState === 1 && (ws.send(JSON.stringify(frame)), true);
  // 4429 asks for at least 5 s (protocol 9.3).
  const delay = () => Math.max(lastCode === 4429 ? 5000 : 0, d.backoff(Math.max(failures, 1)));

  const Guarded = class extends (WebSocket as new (url: string) => Raw) {
    constructor(url: string) {
      super(url);
      const ws = (raw = this);
      ready = false;
      pingAt = 0;
      // Registered before reconnecting-websocket's own listeners, so they see each close code first,
      // and never removed: RWS removes its listeners and then closes a CONNECTING socket on its
      // connect timeout, and `ws` throws an 'error' nobody listens to (RWS #183, fix never released).
      ws.addEventListener('open', () => ws === raw && opened(ws));
      ws.addEventListener('message', (e) => ws === raw && received((e as MessageEvent).data));
      ws.addEventListener('error', () => end(ws, 0));
      ws.addEventListener('close', (e) => end(ws, (e as CloseEvent).code));
    }
  };

  function opened(ws: Raw) {
    // A proxy may accept the upgrade and then hold every frame.
    later(() => end(ws, 0, 'socket-failed'), readyTimeoutMs);
    d.token().then(
      ([token, f]) => {
        if (ws !== raw) return;
        forced = f;
        put(ws, { type: 'auth', token });
        authed = ws;
        d.onAuth();
      },
      () => end(ws, 0, 'socket-failed'),
    );
  }

  function received(data: unknown) {
    let f: any;
    try {
      f = JSON.parse(data as string);
    } catch {
      return;
    }
    lastRx = Date.now();
    pingAt = 0;
    if (f?.type === 'ready') {
      ready = true;
      readyAt = lastRx;
      probing = false;
      beat();
      d.onReady();
    } else d.onFrame(f);
  }

  // Nothing received for `heartbeatMs`: ping; nothing for `heartbeatTimeoutMs` more: dead. A dead TCP
  // connection only reports its close at the TCP timeout, minutes later, so we do not wait for it.
  function beat() {
    const now = Date.now();
    if (pingAt && now - pingAt >= heartbeatTimeoutMs) return end(raw!, 0, 'heartbeat-timeout');
    if (!pingAt && now - lastRx >= heartbeatMs) {
      pingAt = now;
      put(raw!, { type: 'ping' });
    }
    later(beat, pingAt ? pingAt + heartbeatTimeoutMs - now : lastRx + heartbeatMs - now);
  }

  /** An attempt ended (`kill`: we end it ourselves and replace the instance without waiting for its close). */
  function end(ws: Raw, code: number, kill?: SocketDown) {
    if (ws !== raw) return;
    raw = authed = undefined;
    clearTimeout(timer);
    const wasReady = ready;
    ready = false;
    lastCode = code;
    // A socket that stayed up for RWS's `minUptime` starts a fresh budget; accept-then-drop does not.
    failures = wasReady && Date.now() - readyAt >= 5000 ? 0 : failures + 1;
    if (kill || probing || failures >= reconnectAttempts) {
      probing ||= failures >= reconnectAttempts;
      drop();
      ws.terminate?.();
      later(connect, probing ? probeMin + Math.random() * (probeMax - probeMin) : delay());
    }
    d.onDown(kill ?? (wasReady ? 'socket-closed' : 'socket-failed'), code, forced);
  }

  function drop() {
    rws?.close();
    rws = undefined;
  }

  function connect() {
    drop();
    rws = new ReconnectingWebSocket(d.url, undefined, {
      WebSocket: Guarded,
      // No outgoing queue: every (re)connect subscribes again from the cursors. RWS's own 4 s
      // connect timeout (its default) ends attempts that never open.
      maxEnqueuedMessages: 0,
      reconnectionDelayGrowFactor: 1,
      maxReconnectionDelay: Infinity,
      // RWS reads this before each retry. Its default is one random base per page load, shared by
      // every instance, so clients would retry in step: each client draws its own full jitter.
      get minReconnectionDelay() {
        return delay();
      },
    });
  }

  return {
    start() {
      failures = 0;
      probing = false;
      lastCode = 0;
      clearTimeout(timer);
      raw = authed = undefined;
      connect();
    },
    stop() {
      clearTimeout(timer);
      raw = authed = undefined;
      ready = probing = false;
      drop();
    },
    wake() {
      if (ready && !pingAt) {
        lastRx = 0;
        beat();
      } else if (!rws) later(connect, 0);
    },
    send: (frame) => !!authed && authed === raw && put(authed, frame),
  };
}
