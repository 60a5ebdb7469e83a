import type { Readable } from 'node:stream';
import type { BufferPool } from './bufferPool';
import { HttpError } from './errors';

const tooLarge = (limit: number): HttpError => new HttpError(413, 'payload_too_large', `The body exceeds ${limit} bytes.`);

/**
 * Read a request body into one buffer from `pool`, as Fastify's own `parseAs: 'buffer'` reads it
 * into a new one (same refusals: a declared or received length over `limit` is a 413, a body
 * shorter or longer than its Content-Length a 400). The result is a view of a pooled buffer: give
 * it back to the pool once nothing reads it any more, or leave it to the garbage collector.
 */
export function readBody(payload: Readable, contentLength: string | undefined, limit: number, pool: BufferPool): Promise<Buffer> {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    // Sized by Content-Length when there is one; a chunked body starts in a pooled buffer and grows.
    let buffer = pool.take(Number.isNaN(declared) ? Math.min(limit, pool.size) : declared);
    let received = 0;

    const stop = (error: Error | null) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
      if (error === null) return resolve(buffer.subarray(0, received));
      pool.give(buffer);
      reject(error);
    };

    function onData(chunk: Buffer | string) {
      if (typeof chunk === 'string') chunk = Buffer.from(chunk);
      const end = received + chunk.length;
      if (end > limit) return stop(tooLarge(limit));
      if (end > buffer.length) {
        const bigger = pool.take(Math.min(limit, Math.max(end, 2 * buffer.length)));
        buffer.copy(bigger, 0, 0, received);
        pool.give(buffer);
        buffer = bigger;
      }
      chunk.copy(buffer, received);
      received = end;
    }

    function onEnd(error?: Error & { statusCode?: number }) {
      if (error != null) {
        // A broken upload (the client went away, a bad chunked encoding): the client's fault.
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        return stop(error);
      }
      if (!Number.isNaN(declared) && received !== declared) {
        return stop(new HttpError(400, 'invalid_body', `The body has ${received} bytes, not the ${declared} its Content-Length says.`));
      }
      stop(null);
    }

    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
