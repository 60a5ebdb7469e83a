export { backoffDelay } from './backoff';
export { applyFrame as unstable_applyFrame, type Cursor, type CursorFrame, type Verdict } from './cursor';
export { RealtimeError, type RealtimeErrorCode } from './errors';
export { createOnlineManager, type OnlineManager } from './onlineManager';
export { createRealtimeClient } from './realtimeClient';
export type {
  FetchLike,
  RealtimeChannelError,
  RealtimeClient,
  RealtimeEvent,
  RealtimeMessage,
  RealtimeOptions,
  RealtimeReason,
  RealtimeReset,
  RealtimeState,
  StateListener,
  SubscribeOptions,
  WebSocketClass,
} from './types';
export { createVisibilityManager, type VisibilityManager } from './visibilityManager';
