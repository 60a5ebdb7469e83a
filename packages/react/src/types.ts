import type { RealtimeChannelError, RealtimeMessage, RealtimeReason, RealtimeState } from '@sightline/realtime';

/** `data` of a `metric_update` message (protocol 9.6): the totals of one bucket, so far. */
export interface MetricUpdate {
  name: string;
  /** Width of the bucket: `1s` or `1m`. */
  interval: string;
  /** Start of the bucket (ISO 8601). */
  bucket: string;
  count: number;
  /** Distinct users: `userId`, else `anonymousId`. */
  users: number;
  /** Over the `value` of `Metric Recorded` events; `null` on other channels. */
  sum: number | null;
  min: number | null;
  max: number | null;
}

/** `data` of an `alert` message (protocol 9.1): the newest state of one alert. */
export interface Alert {
  id: string;
  severity: string;
  status: string;
  [key: string]: unknown;
}

/** One channel as `useChannel` reads it. */
export interface ChannelSnapshot<T = unknown> {
  /** The newest messages, oldest first: at most the provider's `historySize`. */
  messages: readonly RealtimeMessage<T>[];
  /** How many `reset`s came: continuity was lost, so refetch what you show when this grows. */
  resets: number;
  /** The backend refused the subscription (`invalid_channel`, `too_many_subscriptions`): it is over. */
  error: RealtimeChannelError | undefined;
}

/** The connection of the provider's client (`connecting` until there is one). */
export interface ConnectionSnapshot {
  state: RealtimeState;
  reason: RealtimeReason;
}

/** What a `RealtimeProvider`'s store holds. */
export interface RealtimeSnapshot {
  connection: ConnectionSnapshot;
  /** Per subscribed channel. */
  channels: Readonly<Record<string, ChannelSnapshot>>;
  /** Per metric name, per interval: the newest bucket's totals. */
  metrics: Readonly<Record<string, Readonly<Record<string, MetricUpdate>>>>;
}
