/** What went wrong, for `onError` / `on('error')` listeners. */
export type SightlineErrorCode =
  /** A call had invalid input; that event was dropped. */
  | 'invalid_event'
  /** IndexedDB/localStorage failed or is missing; the queue runs in memory. */
  | 'storage'
  /** A request failed (network or HTTP status); see `status` and `retryIn`. */
  | 'delivery'
  /** A plugin threw or rejected; it was skipped for that event. */
  | 'plugin'
  /** A privacy rule could not run (e.g. no WebCrypto); the value was removed. */
  | 'privacy';

/** Every runtime failure reported by core. Never thrown into the host app. */
export class SightlineError extends Error {
  // `declare`: no class-field initialisers, which compile to a helper per field at es2020.
  declare code: SightlineErrorCode;
  /** HTTP status of a failed delivery (0: network error). */
  declare status?: number;
  /** Milliseconds until the next delivery attempt; absent when the batch is not retried. */
  declare retryIn?: number;

  constructor(code: SightlineErrorCode, message: string, cause?: unknown) {
    super('[sightline] ' + message, { cause });
    this.name = 'SightlineError';
    this.code = code;
  }
}

/** Builds a `SightlineError` and hands it to `onError`, `on('error')` and the debug log. */
export type Reporter = (code: SightlineErrorCode, message: string, cause?: unknown, extra?: Partial<SightlineError>) => void;
