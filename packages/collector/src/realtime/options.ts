/** Tuning of the collector's realtime side (protocol section 9). Every one is optional. */
export interface RealtimeOptions {
  /**
   * Messages kept per channel for resuming: the newest `size`, at most `maxAgeMs` old.
   * @default { size: 1000, maxAgeMs: 600000 }
   */
  history?: { size?: number | undefined; maxAgeMs?: number | undefined } | undefined;
  /**
   * Channels one socket may subscribe to (and one poll may ask for).
   * @default 100
   */
  maxSubscriptions?: number | undefined;
  /**
   * Bytes waiting to be sent to one socket past which it is closed with 4503 (slow consumer).
   * @default 1048576 (1 MiB)
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Interval of WebSocket pings; a socket that did not answer the previous one is terminated.
   * @default 25000
   */
  pingIntervalMs?: number | undefined;
  /**
   * How long a new socket has to send its `auth` frame before it is closed with 4408.
   * @default 5000
   */
  authTimeoutMs?: number | undefined;
  /**
   * How often the history is pruned to its bounds.
   * @default 10000
   */
  pruneIntervalMs?: number | undefined;
  /**
   * Frames one socket may send (pings, `auth` and subscribes included): a token bucket of
   * `perSecond` with bursts of `burst`. Past it the socket is closed with 4429. The burst covers
   * a (re)connect that sends `auth` and a `subscribe` for each of its up to 100 channels at once.
   * @default { perSecond: 20, burst: 200 }
   */
  frameRate?: { perSecond?: number | undefined; burst?: number | undefined } | undefined;
  /**
   * Sockets one project may hold open at once, per process. The next one is closed with 4429
   * right after its `auth`, before `ready`.
   * @default 1000
   */
  maxSocketsPerProject?: number | undefined;
  /**
   * Polls one read token may make, per process: a token bucket of `perSecond` with bursts of
   * `burst`. Past it the poll is answered `429 rate_limited` with `Retry-After`.
   * @default { perSecond: 20, burst: 100 }
   */
  pollRate?: { perSecond?: number | undefined; burst?: number | undefined } | undefined;
  /**
   * Polls of one project in progress at once (most of them waiting for a message), per process.
   * More are answered `429 rate_limited` with `Retry-After: 5`.
   * @default 100
   */
  maxWaitingPolls?: number | undefined;
}

/** {@link RealtimeOptions} with every default applied. */
export interface ResolvedRealtimeOptions {
  historySize: number;
  historyMaxAgeMs: number;
  maxSubscriptions: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  authTimeoutMs: number;
  pruneIntervalMs: number;
  framesPerSecond: number;
  frameBurst: number;
  maxSocketsPerProject: number;
  pollsPerSecond: number;
  pollBurst: number;
  maxWaitingPolls: number;
  /** A channel is live this long after the last lease (socket renewals, each poll). */
  leaseTtlMs: number;
  /** Sockets renew the leases of their channels this often (well inside the TTL). */
  leaseRenewMs: number;
}

/** Defaults of {@link RealtimeOptions}, and the fixed limits of protocol section 9. */
export const REALTIME_DEFAULTS = {
  historySize: 1000,
  historyMaxAgeMs: 600_000,
  maxSubscriptions: 100,
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 25_000,
  authTimeoutMs: 5_000,
  pruneIntervalMs: 10_000,
  // A dashboard sends a ping every 10 s and a few subscribes as views change; 20/s is far above it.
  framesPerSecond: 20,
  // `auth` plus a subscribe for each of the 100 channels a socket may hold, twice over.
  frameBurst: 200,
  maxSocketsPerProject: 1000,
  // A poll that returns messages is followed at once by the next (and by several while `more`),
  // and every viewer of a project may share its read token: well above one client's needs.
  pollsPerSecond: 20,
  pollBurst: 100,
  // Each waiting poll re-reads the database when its channels move (sockets share one frame):
  // fewer than sockets.
  maxWaitingPolls: 100,
  leaseTtlMs: 90_000,
  leaseRenewMs: 30_000,
} as const;

/** Protocol limits that are not options. */
export const REALTIME_LIMITS = {
  /** Largest client frame on the socket (ws `maxPayload`; more closes with 1009). */
  maxClientFrameBytes: 16 * 1024,
  /** Largest message frame, `data` included. */
  maxMessageBytes: 64 * 1024,
  /** Messages per poll answer, and per page read from the history. */
  maxMessagesPerRead: 500,
  /** Longest `wait` of a poll, in seconds. */
  maxPollWaitSec: 25,
} as const;

export function resolveRealtimeOptions(options: RealtimeOptions = {}): ResolvedRealtimeOptions {
  const positive = (value: number | undefined, fallback: number) =>
    value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
  return {
    historySize: Math.floor(positive(options.history?.size, REALTIME_DEFAULTS.historySize)),
    historyMaxAgeMs: positive(options.history?.maxAgeMs, REALTIME_DEFAULTS.historyMaxAgeMs),
    maxSubscriptions: Math.floor(positive(options.maxSubscriptions, REALTIME_DEFAULTS.maxSubscriptions)),
    maxBufferedBytes: positive(options.maxBufferedBytes, REALTIME_DEFAULTS.maxBufferedBytes),
    pingIntervalMs: positive(options.pingIntervalMs, REALTIME_DEFAULTS.pingIntervalMs),
    authTimeoutMs: positive(options.authTimeoutMs, REALTIME_DEFAULTS.authTimeoutMs),
    pruneIntervalMs: positive(options.pruneIntervalMs, REALTIME_DEFAULTS.pruneIntervalMs),
    framesPerSecond: positive(options.frameRate?.perSecond, REALTIME_DEFAULTS.framesPerSecond),
    frameBurst: Math.floor(positive(options.frameRate?.burst, REALTIME_DEFAULTS.frameBurst)),
    maxSocketsPerProject: Math.floor(positive(options.maxSocketsPerProject, REALTIME_DEFAULTS.maxSocketsPerProject)),
    pollsPerSecond: positive(options.pollRate?.perSecond, REALTIME_DEFAULTS.pollsPerSecond),
    pollBurst: Math.floor(positive(options.pollRate?.burst, REALTIME_DEFAULTS.pollBurst)),
    maxWaitingPolls: Math.floor(positive(options.maxWaitingPolls, REALTIME_DEFAULTS.maxWaitingPolls)),
    leaseTtlMs: REALTIME_DEFAULTS.leaseTtlMs,
    leaseRenewMs: REALTIME_DEFAULTS.leaseRenewMs,
  };
}
