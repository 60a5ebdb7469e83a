import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, QueryResult, Queryable, Row } from './database';

/**
 * Open (creating on first use) an embedded PostgreSQL in `dataDir`.
 * PGlite runs one statement at a time, so callers need no pool.
 */
export async function openPgliteDatabase(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create({ dataDir });
  let closed: Promise<void> | undefined;

  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Required<Queryable> => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await q.query<R>(sql, params ? [...params] : undefined);
      return { rows: result.rows };
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
    async copyIn(table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
      // PGlite reads COPY data from the blob passed along, under this name.
      await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([...chunks] as BlobPart[]) });
    },
  });
  const root = wrap(pg);

  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    copyIn: root.copyIn,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    close() {
      closed ??= pg.close();
      return closed;
    },
  };
}
