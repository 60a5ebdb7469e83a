import type { Readable } from 'node:stream';
import type { BufferPool } from './bufferPool';
import { HttpError, bodyTooLarge } from './errors';

/**
 * Read a request body as Fastify's own `parseAs: 'buffer'` does, with the same refusals (a declared
 * or received length over `limit` is a 413, a body shorter or longer than its Content-Length a 400,
 * a broken upload a 400), but join its chunks in a buffer from `pool` instead of a new one. The
 * chunks are kept as they come, so an upload holds only what it has sent so far; the result is a
 * view of a pooled buffer when the body is large: give it back once nothing reads it any more, or
 * leave it to the garbage collector.
 */
export function readBody(payload: Readable, contentLength: string | undefined, limit: number, pool: BufferPool): Promise<Buffer> {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
  if (declared > limit) return Promise.reject(bodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const stop = (error: Error | null) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
      if (error !== null) return reject(error);
      const body = pool.take(received);
      let at = 0;
      for (const chunk of chunks) at += chunk.copy(body, at);
      resolve(body.subarray(0, received));
    };

    function onData(chunk: Buffer | string) {
      if (typeof chunk === 'string') chunk = Buffer.from(chunk);
      received += chunk.length;
      if (received > limit) return stop(bodyTooLarge(limit));
      chunks.push(chunk);
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
