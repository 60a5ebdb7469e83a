import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from '../bodyReader';
import { BufferPool } from '../bufferPool';

const chunksOf = (text: string, size: number): Buffer[] => {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
};

describe('readBody', () => {
  const text = JSON.stringify({ batch: Array.from({ length: 40 }, (_, i) => ({ event: `E${i} €`, n: i })) });
  const length = Buffer.byteLength(text);

  it('joins a large body in a pooled buffer, exactly, with or without Content-Length', async () => {
    const pool = new BufferPool(length + 100, 4);
    for (const declared of [String(length), undefined]) {
      const body = await readBody(Readable.from(chunksOf(text, 100)), declared, 10_000, pool);
      expect(body.toString()).toBe(text);
      expect(body.buffer.byteLength).toBe(length + 100);
      pool.give(body);
      expect(pool.free).toBe(1);
    }
  });

  it('joins a small body in memory of its own', async () => {
    const pool = new BufferPool(4 * length, 4);
    const body = await readBody(Readable.from(chunksOf(text, 100)), String(length), 10_000, pool);
    expect(body.toString()).toBe(text);
    pool.give(body);
    expect(pool.free).toBe(0);
  });

  it('refuses a declared or received length over the limit with 413', async () => {
    const pool = new BufferPool(4096, 4);
    await expect(readBody(Readable.from(chunksOf(text, 100)), String(length), length - 1, pool)).rejects.toMatchObject({
      statusCode: 413,
      code: 'payload_too_large',
    });
    await expect(readBody(Readable.from(chunksOf(text, 100)), undefined, length - 1, pool)).rejects.toMatchObject({ statusCode: 413 });
  });

  it('refuses a body shorter or longer than its Content-Length with 400', async () => {
    const pool = new BufferPool(4096, 4);
    for (const declared of [length - 1, length + 1]) {
      await expect(readBody(Readable.from(chunksOf(text, 100)), String(declared), 10_000, pool)).rejects.toMatchObject({
        statusCode: 400,
        code: 'invalid_body',
      });
    }
  });

  it('passes a broken upload on as a 400', async () => {
    const pool = new BufferPool(4096, 4);
    const payload = new PassThrough();
    const reading = readBody(payload, String(length), 10_000, pool);
    payload.write(text.slice(0, 50));
    payload.destroy(new Error('aborted'));
    await expect(reading).rejects.toMatchObject({ message: 'aborted', statusCode: 400 });
  });
});
