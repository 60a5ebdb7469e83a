// The realtime hub's contracts: what ingest and subsystems call, what transports listen with.
import type { Queryable } from '../database';
import type { StoredEvent } from '../routes/events';
import type { MessageFrame } from './frames';
import type { Fanout, FanoutSink } from './notifier';
import type { ResolvedRealtimeOptions } from './options';
import type { ChannelHead } from './resolveCursor';

/** What a publish stored: the seqs `firstSeq..lastSeq` of `epoch`. */
export interface PublishResult {
  epoch: string;
  firstSeq: number;
  lastSeq: number;
}

/** A publish stored inside a caller's transaction, not yet announced. */
export interface PendingPublish {
  result: PublishResult;
  /** Call once the transaction committed: announces the messages here and to the other processes. */
  committed(): void;
}

/** What the ingest path and the collector's subsystems (alerts, insights, health) call. */
export interface RealtimePublisher {
  /**
   * Publish one message per item of `data` on `channel` of `projectId`, in order. Resolves with
   * their seqs, or `null` when nobody subscribes to the channel (the messages are dropped: a
   * backend only serves channels while someone listens). Rejects when the database fails.
   * Throws for a channel name outside protocol 9.1, an empty `kind`, an item that is not JSON,
   * or one over 64 KB.
   */
  publish(projectId: string, channel: string, kind: string, data: readonly unknown[]): Promise<PublishResult | null>;
  /**
   * Events just stored for `projectId` (each as `GET /v1/events/recent` returns it): published
   * as `event` messages on `events` when that channel is live. Never rejects; failures are logged.
   */
  eventsStored(projectId: string, events: readonly StoredEvent[]): Promise<void>;
}

/** One subscription request of either transport (protocol 9.2). */
export interface SubscribeRequest {
  channel: string;
  since: number | null;
  epoch: string | null;
}

/** The answer to a {@link SubscribeRequest}. */
export interface Resolution {
  channel: string;
  epoch: string;
  /** The newest seq when resolved. */
  lastSeq: number;
  /**
   * `new`: no cursor, the subscription starts at `seq` (= lastSeq); `reset`: the cursor could not
   * be resumed, the subscription starts at `seq` (= lastSeq); `resumed`: `seq` is the client's `since`.
   */
  outcome: 'new' | 'reset' | 'resumed';
  seq: number;
  /** Messages after `seq`, contiguous, oldest first. */
  messages: MessageFrame[];
  /** More messages follow `messages` (the read was cut at its limit). */
  more: boolean;
}

/** Someone in this process listening to a channel: a socket subscription or a waiting poll. */
export interface ChannelListener {
  /** Sockets keep their channels' leases renewed; polls lease on every request. */
  readonly holdsLease: boolean;
  /**
   * Messages up to `lastSeq` were committed. `frames` are some of them (contiguous) when this
   * process published them; `null` when they must be read from the history.
   */
  notify(lastSeq: number, frames: readonly MessageFrame[] | null): void;
  /** The channel's epoch changed under a live subscription (its lease had lapsed). */
  reset(head: ChannelHead): void;
}

/** The realtime hub of one collector process. */
export interface RealtimeHub extends RealtimePublisher {
  /** Resolve subscriptions of one project; `lease` takes or extends their leases first. `limit` bounds the messages of all. */
  resolve(projectId: string, requests: readonly SubscribeRequest[], options: { lease: boolean; limit: number }): Promise<Resolution[]>;
  /**
   * {@link RealtimePublisher.publish} inside the caller's transaction `tx`, so the messages take
   * their seqs under the channel's counter row lock together with what `tx` wrote (the metric
   * rollups publish their totals this way: seq order is then totals order). Nothing is announced
   * until `committed()`; after a rollback, just drop the result.
   */
  publishIn(tx: Queryable, projectId: string, channel: string, kind: string, data: readonly unknown[]): Promise<PendingPublish | null>;
  /** Listen to a channel of one project; returns the stop. */
  watch(projectId: string, channel: string, listener: ChannelListener): () => void;
  /** The highest seq announced in this process for a watched channel (0 when none). */
  known(projectId: string, channel: string): number;
  readonly shuttingDown: boolean;
  /** Called once when shutdown begins; returns the unsubscribe. */
  onShutdown(fn: () => void): () => void;
  /**
   * False when the channel is known not to be live in any process, so callers (ingest) can skip
   * building messages nobody would get. This process's leases count at once; on PostgreSQL other
   * processes' leases are seen within {@link LIVE_REFRESH_MS}. `channel` may also be a family,
   * `metrics:`: true while any `metrics:<name>` channel of the project may be live.
   */
  isLive(projectId: string, channel: string): boolean;
  /**
   * Start the lease renewal and history pruning timers (after the database is open). On
   * PostgreSQL also the 5 s safety check, and `fanout` (LISTEN/NOTIFY) when given: it is built
   * with the sink that feeds other processes' commits to this hub.
   */
  start(fanout?: (sink: FanoutSink) => Fanout): Promise<void>;
  /** Shutdown begins: waiting polls answer, sockets close with 1001. Idempotent. */
  shutdown(): void;
  /** Stop the timers and wait (at most `graceMs`) for publishes in flight; later publishes are dropped. */
  close(graceMs: number): Promise<void>;
  /** Delete the history beyond its bounds now (what the timer runs); resolves with the number deleted. */
  prune(): Promise<number>;
  readonly options: ResolvedRealtimeOptions;
}

/** Where the hub reports failures. */
export interface HubLogger {
  warn(fields: object, message: string): void;
}
