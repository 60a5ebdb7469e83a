export { createAnalytics, MAX_EVENT_BYTES } from './analytics';
export { backoffDelay, parseRetryAfter, retryDelay, type RetryOptions } from './backoff';
export { BEACON_BUDGET } from './beacon';
export type { ConsentOptions } from './consent';
export { SightlineError, type SightlineErrorCode } from './errors';
export { createKeyValueStore as unstable_createKeyValueStore, type KeyValueStore } from './keyValueStore';
export { createLocalLockManager as unstable_createLocalLockManager, createLockManager as unstable_createLockManager, type LockManager } from './lockManager';
export { createOnlineManager as unstable_createOnlineManager, type OnlineManager } from './onlineManager';
export type { AnalyticsOptions, Environment } from './options';
export { createPageExitManager as unstable_createPageExitManager, type PageExitManager } from './pageExitManager';
export { privacyRules, type PrivacyOptions, type PrivacyRules } from './privacy';
export { SESSION_TIMEOUT } from './session';
export { idbStorage as unstable_idbStorage, memoryStorage as unstable_memoryStorage, type QueueStorage } from './storage';
export type { BeaconLike, FetchLike, TransportResponse } from './transport';
export type {
  AIFeedback,
  AIGeneration,
  Analytics,
  AnalyticsEventMap,
  CallOptions,
  DeliveredEvent,
  DroppedEvent,
  EventContext,
  EventType,
  MetricOptions,
  Plugin,
  PrivacyRule,
  Properties,
  SightlineEvent,
  TrackArgs,
} from './types';
