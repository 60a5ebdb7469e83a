import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { HttpError, bodyTooLarge } from './errors';
import { scanBatch } from './leanBatch';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** A request body once decompressed and parsed. */
export interface DecodedBody {
  /** The JSON value; for a batch read by `scanBatch`, a `LeanBatch`. */
  value: unknown;
  /** Decompressed size in bytes. */
  bytes: number;
}

const COMPRESSED = new Map([
  ['gzip', gunzipAsync],
  ['x-gzip', gunzipAsync],
  ['deflate', inflateAsync],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const hasByteOrderMark = (bytes: Buffer): boolean => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;

const notUtf8 = (): HttpError => new HttpError(400, 'invalid_json', 'The body is not valid UTF-8.');

async function decompress(raw: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  // maxOutputLength stops a small gzip bomb from inflating into gigabytes.
  const options = { maxOutputLength: maxBytes };
  try {
    return await COMPRESSED.get(encoding)!(raw, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, 'payload_too_large', `The decompressed body exceeds ${maxBytes} bytes.`);
    }
    throw new HttpError(400, 'invalid_body', `The body is not valid ${encoding} data.`);
  }
}

/**
 * Turn the raw bytes into JSON whatever the content type says: clients send
 * JSON as `text/plain` (no CORS preflight), some with no type at all, and
 * RudderStack's Node SDK gzips with `Content-Encoding: gzip`.
 */
export async function decodeBody(
  raw: unknown,
  contentEncoding: string | undefined,
  maxBytes: number,
  /** A batch endpoint's body: read it with `scanBatch` when it can. */
  batch = false,
): Promise<DecodedBody> {
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new HttpError(400, 'invalid_body', 'The request has no body.');
  }
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === 'identity' || encoding === '') bytes = raw;
  else if (COMPRESSED.has(encoding)) bytes = await decompress(raw, encoding, maxBytes);
  else throw new HttpError(415, 'unsupported_encoding', `Content-Encoding "${encoding}" is not supported; send gzip, deflate or none.`);
  if (bytes.length > maxBytes) {
    throw bodyTooLarge(maxBytes);
  }
  if (batch) {
    // Checked as bytes: making the whole body one string is what the windows of scanBatch avoid.
    if (!isUtf8(bytes)) throw notUtf8();
    const lean = scanBatch(hasByteOrderMark(bytes) ? bytes.subarray(3) : bytes);
    if (lean !== null) return { value: lean, bytes: bytes.length };
  }
  let text: string;
  try {
    // Fatal: invalid UTF-8 is refused rather than silently turned into U+FFFD.
    // A leading byte-order mark is dropped (ignoreBOM: false).
    text = utf8.decode(bytes);
  } catch {
    throw notUtf8();
  }
  try {
    return { value: JSON.parse(text), bytes: bytes.length };
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
}
