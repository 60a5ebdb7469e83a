import type { RealtimeError } from './errors';
import type { OnlineManager } from './onlineManager';
import type { VisibilityManager } from './visibilityManager';

/**
 * The connection as a whole:
 * - `connecting`: starting, nothing delivers yet;
 * - `open`: the WebSocket is authenticated and delivers;
 * - `polling`: HTTP long polling delivers while the socket retries or probes;
 * - `reconnecting`: a transport was lost and nothing delivers yet;
 * - `offline`: paused (the network is down, or the page is hidden with `pauseWhenHidden`);
 * - `closed`: for good (`close()`, or the token was refused).
 */
export type RealtimeState = 'connecting' | 'open' | 'polling' | 'reconnecting' | 'offline' | 'closed';

/** Why the state last changed. */
export type RealtimeReason =
  | 'start'
  | 'ready'
  | 'socket-closed'
  | 'heartbeat-timeout'
  | 'poll-ok'
  | 'poll-failed'
  | 'offline'
  | 'online'
  | 'hidden'
  | 'visible'
  | 'unauthorized'
  | 'forbidden'
  | 'closed';

/** A message of a channel (protocol 9.1). `data` is the channel's payload, e.g. an event. */
export interface RealtimeMessage<T = unknown> {
  type: 'message';
  channel: string;
  seq: number;
  kind: string;
  /** When it was published (ISO 8601), for display only: order is by `seq`. */
  at: string;
  data: T;
}

/** Continuity was lost (history too short, new epoch): refetch what you show, then carry on. */
export interface RealtimeReset {
  type: 'reset';
  channel: string;
  /** The next message is `seq + 1`. */
  seq: number;
  epoch: string;
}

/** The backend refused this subscription (`invalid_channel`, `too_many_subscriptions`); it is over. */
export interface RealtimeChannelError {
  type: 'error';
  channel: string;
  code: string;
  message: string;
}

/** What a subscriber's callback receives. */
export type RealtimeEvent<T = unknown> = RealtimeMessage<T> | RealtimeReset | RealtimeChannelError;

/** A WebSocket class: the browser's, or `WebSocket` from `ws` in Node. */
export type WebSocketClass = new (url: string) => object;

/** The part of `fetch` the poller uses; the answer's `json()` is read for every status. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

/** Options of `createRealtimeClient`. Every duration is in milliseconds unless its name says otherwise. */
export interface RealtimeOptions {
  /** The collector's base URL (`https://collector.example.com`); relative URLs resolve against the page. */
  url: string;
  /**
   * The project's read token (string or promise), asked before every socket `auth` and every poll:
   * cache it inside. `forceRefresh` is true after the backend refused the last one.
   */
  getToken: (context: { forceRefresh: boolean }) => string | Promise<string>;
  /** The WebSocket class; required in Node 20 (`import WebSocket from 'ws'`). @default globalThis.WebSocket */
  WebSocket?: WebSocketClass;
  /** Used for long polling. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time a socket has to become `ready` before long polling starts alongside it. @default 2000 */
  failoverMs?: number;
  /** First socket retry waits up to this long (full jitter, doubling). @default 1000 */
  reconnectBaseMs?: number;
  /** Upper bound of a socket or poll retry wait. @default 30000 */
  reconnectMaxMs?: number;
  /** Socket attempts in a row without `ready` before the client stays on polling and only probes. @default 5 */
  reconnectAttempts?: number;
  /** Range of the wait between two socket probes once the attempts ran out. @default [10000, 20000] */
  probeMs?: readonly [number, number];
  /** An open socket that has not said `ready` within this long counts as a failed attempt. @default 5000 */
  readyTimeoutMs?: number;
  /** A socket silent for this long is sent a `ping`. @default 10000 */
  heartbeatMs?: number;
  /** A socket silent for this long after a `ping` is dead and replaced. @default 5000 */
  heartbeatTimeoutMs?: number;
  /** How long the backend may hold a long poll, in seconds (0 to 25). @default 25 */
  pollWaitSec?: number;
  /** Interval of short polling, used when long polls keep being cut (a proxy). @default 30000 */
  shortPollMs?: number;
  /** Pause (state `offline`) after the page has been hidden this long; `false`: never. @default false */
  pauseWhenHidden?: number | false;
  /** Network state; replace it in tests or other runtimes. @default navigator.onLine and window events */
  onlineManager?: OnlineManager;
  /** Page visibility; replace it in tests or other runtimes. @default document.visibilityState */
  visibilityManager?: VisibilityManager;
  /** Every runtime failure (transport, token, a throwing listener). Never thrown into the host. @default none */
  onError?: (error: RealtimeError) => void;
  /** `[sightline]`-prefixed console logs of transport changes. @default false */
  debug?: boolean;
}

/** Options of one subscription: the cursor to resume from, both or neither. */
export interface SubscribeOptions {
  /** The `seq` of the last message you have. @default none: only what comes next */
  since?: number;
  /** The epoch that `since` belongs to (from `client.cursor()` or a `reset`). @default none */
  epoch?: string;
}

export type StateListener = (state: RealtimeState, reason: RealtimeReason) => void;

/** What `createRealtimeClient` returns. */
export interface RealtimeClient {
  /**
   * Listen to a channel (`events`, `metrics:<name>`, `alerts`, `insights`, `health`); returns the
   * unsubscribe. `since`/`epoch` apply when the channel is not subscribed yet; a second listener joins live.
   */
  subscribe<T = unknown>(channel: string, onEvent: (event: RealtimeEvent<T>) => void, options?: SubscribeOptions): () => void;
  /** The cursor of the last message delivered on `channel`, to resume later (another page load) with `since`/`epoch`. */
  cursor(channel: string): { seq: number; epoch: string } | undefined;
  readonly state: RealtimeState;
  readonly reason: RealtimeReason;
  /** Called on every state change; returns the unsubscribe. */
  on(type: 'state', listener: StateListener): () => void;
  /** Stop for good: sockets, polls and timers end, no callback runs afterwards. Idempotent. */
  close(): void;
}
