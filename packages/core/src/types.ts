import type { SightlineError } from './errors';

/** JSON-serialisable event properties or traits. */
export type Properties = Record<string, unknown>;

/** The `type` of a wire event (Segment's spec). */
export type EventType = 'track' | 'page' | 'screen' | 'identify' | 'group' | 'alias';

/** `context` of every event, filled in by the SDK at call time. */
export interface EventContext {
  library: { name: string; version: string };
  page?: { path: string; url: string; referrer: string; title: string; search: string };
  userAgent?: string;
  locale?: string;
  timezone?: string;
  screen?: { width: number; height: number; density: number };
  /** From `utm_*` query parameters (`utm_campaign` becomes `name`). */
  campaign?: Record<string, string>;
  sessionId: string;
  [key: string]: unknown;
}

/** One event as it travels on the wire (`POST /v1/batch` item). */
export interface SightlineEvent {
  type: EventType;
  /** UUID v7: the collector's dedupe key. */
  messageId: string;
  /** ISO 8601 time of the call. */
  timestamp: string;
  anonymousId: string;
  userId?: string;
  /** Event name (`track`). */
  event?: string;
  /** Page or screen name (`page`, `screen`). */
  name?: string;
  properties?: Properties;
  traits?: Properties;
  groupId?: string;
  previousId?: string;
  context: EventContext;
}

/** Per-call options of `track()`, `page()`, `screen()`... */
export interface CallOptions {
  /** Consent category of this event; dropped unless that category is granted. */
  category?: string;
  /**
   * When it happened, if not now (a call recorded earlier and made later): a Date or epoch
   * milliseconds. The event's `timestamp` only: its messageId, session and page are still those of
   * the call. An invalid time drops the call (reported); the collector refuses years outside
   * 0001-9999 (reported as dropped).
   */
  timestamp?: Date | number | undefined;
}

/** A property rule applied to `properties` and `traits` before anything is stored. */
export interface PrivacyRule {
  /** Dot path inside `properties`/`traits`, e.g. `email` or `address.street`. */
  path: string;
  /** `hash`: SHA-256 hex of the string value; `mask`: replaced by `'***'`; `remove`: deleted. */
  action: 'hash' | 'mask' | 'remove';
}

/**
 * Plugin contract (Segment-style stages, one generic hook).
 * `before` plugins run first (filter/drop), then `enrichment`, then the privacy rules,
 * then `destination` plugins receive the final event (their result is ignored).
 * Each plugin is isolated: a throw or rejection is reported and the event moves on.
 */
export interface Plugin {
  name: string;
  type: 'before' | 'enrichment' | 'destination';
  /** Called once at start-up; events wait for it at most 3 s. */
  load?(): void | Promise<void>;
  /**
   * Return the event (changed or not) to keep it, `null` to drop it
   * (`before`/`enrichment` only), or nothing to keep it unchanged.
   */
  process?(event: SightlineEvent): SightlineEvent | null | void | Promise<SightlineEvent | null | void>;
}

/** Payload of the `delivered` event: a batch the collector confirmed with a 2xx. */
export interface DeliveredEvent {
  count: number;
  messageIds: string[];
}

/** Payload of the `dropped` event: queued events that will never be delivered. */
export interface DroppedEvent {
  /** `overflow`: queue bounds hit, oldest dropped; `rejected`: 4xx from the collector; `corrupt`: unreadable stored entry. */
  reason: 'overflow' | 'rejected' | 'corrupt';
  count: number;
  messageIds: string[];
  /** HTTP status for `rejected`. */
  status?: number;
  /** For `rejected`: the collector's `error.message`, when its answer had one. */
  error?: string | undefined;
}

/** Events emitted by `analytics.on()`. */
export interface AnalyticsEventMap {
  delivered: DeliveredEvent;
  dropped: DroppedEvent;
  error: SightlineError;
}

/** Properties of the reserved `AI Generation` event. */
export interface AIGeneration {
  model: string;
  provider: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  costUsd: number;
  success: boolean;
  errorType?: string;
  promptId?: string;
  traceId?: string;
  [key: string]: unknown;
}

/** Properties of the reserved `AI Feedback` event. `score` is -1..1 or 1..5. */
export interface AIFeedback {
  traceId: string;
  score: number;
  comment?: string;
  [key: string]: unknown;
}

/** Options of `recordMetric()`. */
export interface MetricOptions {
  /** @default 'gauge' */
  type?: 'counter' | 'gauge' | 'histogram' | 'summary';
  /** @default 'business' */
  category?: 'system' | 'business' | 'user' | 'performance' | 'security';
  labels?: Record<string, string>;
}

/** Optional tail arguments of `track()`: properties are required when the event map says so. */
export type TrackArgs<P> = {} extends P
  ? [properties?: P, options?: CallOptions]
  : [properties: P, options?: CallOptions];

/** The client returned by `createAnalytics()`. */
export interface Analytics<E extends object = Record<string, Properties>> {
  /** Queue a `track` event. Synchronous, never throws; invalid input is reported via `onError`. */
  track<K extends keyof E & string>(event: K, ...args: TrackArgs<E[K]>): void;
  /** Queue a `page` event; page fields (path, url, referrer, title, search) are added to the properties. */
  page(name?: string, properties?: Properties, options?: CallOptions): void;
  screen(name: string, properties?: Properties, options?: CallOptions): void;
  /** Set (and persist) the user id, then queue an `identify` event. */
  identify(userId: string, traits?: Properties, options?: CallOptions): void;
  group(groupId: string, traits?: Properties, options?: CallOptions): void;
  /** Link `userId` to `previousId` (defaults to the current user id or anonymous id). */
  alias(userId: string, previousId?: string, options?: CallOptions): void;
  /** Forget the user: new anonymous id, no user id, new session. Queued events are kept. */
  reset(): void;
  /** Send everything queued so far (bypasses the retry wait); resolves when the attempt ends. Never rejects. */
  flush(): Promise<void>;
  /** Stop tracking, clear the queue (all tabs) and persist the choice. */
  optOut(): void;
  /** Resume tracking after `optOut()` (also overrides Global Privacy Control). */
  optIn(): void;
  /** Merge granted/denied consent categories, e.g. `{ analytics: true, marketing: false }`. */
  setConsent(categories: Record<string, boolean>): void;
  /** Reserved `AI Generation` track event. */
  trackAIGeneration(properties: AIGeneration, options?: CallOptions): void;
  /** Reserved `AI Feedback` track event. */
  trackAIFeedback(properties: AIFeedback, options?: CallOptions): void;
  /** Reserved `Metric Recorded` track event: `{ name, value, type, category, labels }`. */
  recordMetric(name: string, value: number, options?: MetricOptions): void;
  /** Listen to `delivered`, `dropped` or `error`; returns the unsubscribe function. */
  on<K extends keyof AnalyticsEventMap>(type: K, listener: (payload: AnalyticsEventMap[K]) => void): () => void;
  /** Flush what it can, then stop timers and remove every listener. Later calls are ignored. */
  shutdown(): Promise<void>;
  /** Persisted anonymous id (getter). */
  readonly anonymousId: string;
  /** Current session id (getter); a new one after 30 minutes without activity in any tab. */
  readonly sessionId: string;
  /** Current user id from `identify()` (getter). */
  readonly userId: string | undefined;
}
