import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type {} from '../../../testing/src/globalSetup';
import { createDatabase, type TestDatabase } from '../../../testing/src/postgres';
import { pgCopyIn } from '../pgCopyIn';
import { copyTuples } from './helpers';

describe('pgCopyIn on PostgreSQL', () => {
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createDatabase(inject('databaseUrl'));
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('CREATE TABLE t (id text PRIMARY KEY, pad text)');
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('copies, and settles only once the socket has taken every chunk, also when the server refuses early', async () => {
    const pad = 'x'.repeat(1000);
    const chunks = Array.from({ length: 40 }, (_, c) => copyTuples(Array.from({ length: 200 }, (_, r) => [`${c}-${r}`, pad])));
    await pgCopyIn(client, 't', ['id', 'pad'], chunks);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(8000);

    // The same 8 MB again: the first row is a duplicate, so the server refuses at once while most
    // chunks still wait in the socket's queue.
    const stream = (client as unknown as { connection: { stream: NodeJS.WritableStream } }).connection.stream;
    const write = stream.write.bind(stream);
    let pendingWrites = 0;
    stream.write = ((data: Uint8Array, callback?: (error?: Error | null) => void) => {
      pendingWrites++;
      return write(data, (error?: Error | null) => {
        pendingWrites--;
        callback?.(error);
      });
    }) as typeof stream.write;
    try {
      const refused = pgCopyIn(client, 't', ['id', 'pad'], chunks).then(
        () => 'stored',
        (error: { code?: string }) => error.code,
      );
      expect(await refused).toBe('23505');
      // Settled after the last write completed: every chunk left our memory for the kernel.
      expect(pendingWrites).toBe(0);
    } finally {
      stream.write = write as typeof stream.write;
    }
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(8000);
  });

  it('rejects, instead of waiting for ever, on a client that can no longer query', async () => {
    const ended = new pg.Client({ connectionString: database.url });
    await ended.connect();
    await ended.end();
    await expect(pgCopyIn(ended, 't', ['id', 'pad'], [copyTuples([['late', null]])])).rejects.toThrow(/not queryable|closed/i);
  });
});
