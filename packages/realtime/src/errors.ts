/** What went wrong, for `onError`. */
export type RealtimeErrorCode =
  /** A socket attempt failed or a live socket was lost; see `closeCode`. */
  | 'socket'
  /** A poll failed (network or HTTP status); see `status`. */
  | 'poll'
  /** `getToken` threw, or the backend refused the token (`unauthorized`, `forbidden`). */
  | 'token'
  | 'unauthorized'
  | 'forbidden'
  /** The backend refused a subscription (`invalid_channel`, `too_many_subscriptions`). */
  | 'channel'
  /** A subscriber's callback threw; the others still ran. */
  | 'listener';

/** Every runtime failure of the realtime client. Never thrown into the host app. */
export class RealtimeError extends Error {
  // `declare`: no class-field initialisers, which compile to a helper per field at es2020.
  declare code: RealtimeErrorCode;
  /** HTTP status of a failed poll (0: network error). */
  declare status?: number;
  /** WebSocket close code of a failed or lost socket. */
  declare closeCode?: number;

  constructor(code: RealtimeErrorCode, message: string, cause?: unknown) {
    super('[sightline] ' + message, { cause });
    this.name = 'RealtimeError';
    this.code = code;
  }
}
