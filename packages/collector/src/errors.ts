/** Machine-readable codes of the collector's error answers. */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_events'
  | 'invalid_query'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_encoding'
  | 'upgrade_required'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** Why one event of a batch was refused. */
export type EventErrorCode =
  | 'invalid_event'
  | 'invalid_type'
  | 'invalid_message_id'
  | 'missing_identity'
  | 'invalid_identity'
  | 'missing_event'
  | 'invalid_field'
  | 'invalid_timestamp'
  | 'invalid_string'
  | 'event_too_large';

/** One entry of `error.details` in a 400 ingest answer. */
export interface EventError {
  /** Position of the event in the batch (0 for single-event endpoints). */
  index: number;
  /** The event's `messageId` when it had a usable one, else `null`. */
  messageId: string | null;
  code: EventErrorCode;
  message: string;
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown };
}

/**
 * An error that becomes an HTTP answer with the collector's error body.
 * Thrown inside route handlers; the error handler turns it into JSON.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The JSON body of this error's answer. */
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** The 413 of a body over `limit` bytes, as read (bodyReader) or as decoded (decodeBody). */
export const bodyTooLarge = (limit: number): HttpError => new HttpError(413, 'payload_too_large', `The body exceeds ${limit} bytes.`);
