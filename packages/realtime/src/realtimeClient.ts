import { backoffDelay } from './backoff';
import { applyFrame, type Cursor } from './cursor';
import { RealtimeError, type RealtimeErrorCode } from './errors';
import { createOnlineManager } from './onlineManager';
import { createPollTransport } from './pollTransport';
import { createSocketTransport } from './socketTransport';
import { createVisibilityManager } from './visibilityManager';
import type { RealtimeClient, RealtimeEvent, RealtimeOptions, RealtimeReason, RealtimeState, StateListener } from './types';

interface Subscription {
  cursor: Cursor | undefined;
  listeners: Set<(event: RealtimeEvent) => void>;
  /** A `subscribe` is on its way on the socket: do not send another on the next gap. */
  pending?: boolean;
}

/**
 * A realtime client (protocol section 9): one WebSocket, HTTP long polling while the socket is
 * not `ready`, and per-channel cursors so that each subscriber sees every message once, in order,
 * or a `reset`. Throws only for misuse (no WebSocket class, no `getToken`), in development builds.
 */
export function createRealtimeClient(o: RealtimeOptions): RealtimeClient {
  // Misuse the app must fix (style rules 7 and 8): checked in development only. In production a
  // missing WebSocket still throws from here (a class cannot extend `undefined`).
  if (typeof process != 'undefined' && process.env.NODE_ENV !== 'production') {
    if (!(o.WebSocket ?? globalThis.WebSocket)) throw new TypeError("[sightline] No WebSocket: pass `WebSocket` from 'ws' (Node 20 has none).");
    if (typeof o.getToken != 'function') throw new TypeError('[sightline] `getToken` must be a function returning the read token.');
  }
  const { failoverMs = 2000, pauseWhenHidden = false, reconnectBaseMs = 1000, reconnectMaxMs = 30_000 } = o;
  // Full jitter per client, for socket retries and failed polls alike.
  const backoff = (attempt: number) => backoffDelay(attempt, reconnectBaseMs, reconnectMaxMs);
  const http = new URL(o.url, globalThis.location?.href).href.replace(/\/$/, '');
  const subs = new Map<string, Subscription>();
  const stateListeners = new Set<StateListener>();
  const online = o.onlineManager ?? createOnlineManager();
  const visibility = o.visibilityManager ?? createVisibilityManager();
  let state: RealtimeState = 'connecting';
  let reason: RealtimeReason = 'start';
  let closed = false;
  let up = online.isOnline();
  let hidden = false;
  let forceRefresh = false;
  let failover: ReturnType<typeof setTimeout> | undefined;
  let hiddenTimer: ReturnType<typeof setTimeout> | undefined;

  const report = (code: RealtimeErrorCode, message: string, cause?: unknown, extra?: Partial<RealtimeError>) => {
    const error = Object.assign(new RealtimeError(code, message, cause), extra);
    // Its message carries the `[sightline]` prefix.
    if (o.debug) console.log(error);
    try {
      o.onError?.(error);
    } catch {}
  };

  const set = (next: RealtimeState, why: RealtimeReason) => {
    if (closed || next === state) return;
    state = next;
    reason = why;
    fire(stateListeners, next, why);
  };

  // getToken runs before every `auth` and every poll; the app caches inside it.
  const token = async (): Promise<[string, boolean]> => {
    const forced = forceRefresh;
    try {
      return [await o.getToken({ forceRefresh: forced }), forced];
    } catch (e) {
      report('token', 'getToken failed', e);
      throw e;
    }
  };

  /**
   * A refused token (HTTP 401, or close code 4401: protocol 9.3 mirrors the HTTP status in 44xx) is
   * refreshed once; refused again after a forced refresh, we stop rather than loop. 403/4403 (a write
   * key) stops at once. Returns whether the client is closed.
   */
  const denied = (status: number, forced: boolean) => {
    status %= 1000;
    if (status == 403) shut('forbidden', 'a write key?');
    else if (status == 401) forced ? shut('unauthorized', 'refused after a refresh') : (forceRefresh = true);
    return closed;
  };

  // From the cursor, on a new subscription, after each `auth` and on a gap (protocol 9.2).
  const resubscribe = (sub: Subscription, channel: string) => {
    const { cursor } = sub;
    sub.pending = socket.send({ type: 'subscribe', channel, ...(cursor && { since: cursor.seq, epoch: cursor.epoch }) });
  };

  const arm = () => {
    clearTimeout(failover);
    failover = setTimeout(poll.start, failoverMs);
  };

  const socket = createSocketTransport({
    url: http.replace(/^http/, 'ws') + '/v1/realtime',
    o,
    backoff,
    token,
    onAuth: () => subs.forEach(resubscribe),
    onReady() {
      forceRefresh = false;
      clearTimeout(failover);
      poll.stop();
      set('open', 'ready');
    },
    onFrame: (f) => handle(f, true),
    onDown(why, code, forced) {
      if (denied(code, forced)) return;
      // The close code is on the error (`closeCode`), as the status is for polls.
      report('socket', why, undefined, { closeCode: code });
      if (state != 'open') poll.start();
      else if (why == 'heartbeat-timeout') set('reconnecting', why), poll.start();
      // A restarting backend (1001) is usually back before the failover: no need to poll at once.
      else set('reconnecting', 'socket-closed'), arm();
    },
  });

  const poll = createPollTransport({
    url: http + '/v1/realtime/poll',
    o,
    backoff,
    token,
    subs,
    onFrame: (f) => handle(f, false),
    onOk() {
      forceRefresh = false;
      if (state != 'open') set('polling', 'poll-ok');
    },
    onFail(status, forced, cause) {
      // 429 is the backend asking to slow down: it is there and polling works, so no error and no
      // state change (the transport waits out Retry-After).
      if (denied(status, forced) || status == 429) return;
      report('poll', 'poll-failed', cause, { status });
      if (state == 'polling') set('reconnecting', 'poll-failed');
    },
  });

  function handle(f: any, fromSocket: boolean) {
    const channel = f?.channel;
    const sub = subs.get(channel);
    const type = f.type;
    if (!sub) return;
    if (type == 'error') {
      subs.delete(channel);
      report('channel', channel + ': ' + f.code);
      // The frame is the event: { type, channel, code, message }.
      return fire(sub.listeners, f);
    }
    // Besides `error`, the frames naming a channel are `message`, `subscribed` and `reset` (protocol
    // 9.2); a malformed one without a numeric `seq` must not move the cursor.
    if (typeof f.seq != 'number') return;
    if (fromSocket && type != 'message') sub.pending = false;
    const [verdict, cursor] = applyFrame(sub.cursor, f);
    sub.cursor = cursor;
    if (verdict == 'deliver') fire(sub.listeners, f);
    // `type: 'reset'` also when a `subscribed` frame names a new epoch.
    else if (verdict == 'reset') fire(sub.listeners, { type: 'reset', channel, seq: f.seq, epoch: f.epoch });
    // Protocol 9.2: a message that skips ahead means subscribing again from the cursor.
    else if (verdict == 'gap' && fromSocket && !sub.pending) resubscribe(sub, channel);
  }

  function fire<A extends unknown[]>(listeners: Set<(...args: A) => void>, ...args: A) {
    // A copy: a listener may unsubscribe itself or others; those no longer receive this call.
    for (const l of [...listeners]) {
      if (closed || !listeners.has(l)) continue;
      try {
        l(...args);
      } catch (e) {
        report('listener', 'listener threw', e);
      }
    }
  }

  // Offline (network down, or hidden long enough with `pauseWhenHidden`): stop everything, keep the cursors.
  function sync(why: RealtimeReason) {
    if (closed) return;
    if (!up || hidden) {
      socket.stop();
      poll.stop();
      clearTimeout(failover);
      set('offline', why);
    } else if (state == 'offline') {
      set('connecting', why);
      socket.start();
      arm();
    } else socket.wake();
  }

  const offOnline = online.subscribe((isUp) => {
    up = isUp;
    sync(isUp ? 'online' : 'offline');
  });
  const offVisibility = visibility.subscribe((visible) => {
    clearTimeout(hiddenTimer);
    if (visible) {
      hidden = false;
      sync('visible');
    } else if (pauseWhenHidden !== false) {
      hiddenTimer = setTimeout(() => {
        hidden = true;
        sync('hidden');
      }, pauseWhenHidden);
    }
  });

  function shut(why: RealtimeReason, message?: string) {
    if (closed) return;
    if (message) report(why as RealtimeErrorCode, message);
    set('closed', why);
    closed = true;
    socket.stop();
    poll.stop();
    clearTimeout(failover);
    clearTimeout(hiddenTimer);
    offOnline();
    offVisibility();
    subs.clear();
    stateListeners.clear();
  }

  if (up) {
    socket.start();
    arm();
  } else {
    state = reason = 'offline';
  }

  return {
    subscribe(channel, onEvent, { since, epoch } = {}) {
      if (
        typeof process != 'undefined' &&
        process.env.NODE_ENV !== 'production' &&
        (!channel || typeof channel != 'string' || typeof onEvent != 'function' || (since == null) != (epoch == null))
      ) {
        throw new TypeError('[sightline] subscribe(channel, fn, { since, epoch }): since and epoch go together');
      }
      if (closed) return () => {};
      let sub = subs.get(channel);
      if (!sub) {
        subs.set(channel, (sub = { cursor: since == null ? undefined : { seq: since, epoch: epoch! }, listeners: new Set() }));
        resubscribe(sub, channel);
        poll.restart();
      }
      const s = sub;
      // A wrapper per call: the same function subscribed twice is two subscriptions.
      const l = (event: RealtimeEvent) => onEvent(event as RealtimeEvent<never>);
      s.listeners.add(l);
      return () => {
        if (s.listeners.delete(l) && !s.listeners.size && subs.get(channel) == s) {
          subs.delete(channel);
          socket.send({ type: 'unsubscribe', channel });
        }
      };
    },
    cursor: (channel) => {
      const c = subs.get(channel)?.cursor;
      return c && { ...c };
    },
    get state() {
      return state;
    },
    get reason() {
      return reason;
    },
    on(_type, listener) {
      if (!closed) stateListeners.add(listener);
      return () => void stateListeners.delete(listener);
    },
    close: () => shut('closed'),
  };
}
