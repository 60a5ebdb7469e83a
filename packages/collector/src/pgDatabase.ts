import pg from 'pg';
import type { Database, QueryResult, Queryable, Row } from './database';
import { pgCopyIn } from './pgCopyIn';

/** Options of the PostgreSQL pool. */
export interface PgDatabaseOptions {
  /**
   * Connections in the pool. Ingest needs few: the event writer groups
   * concurrent requests into a handful of statements.
   * @default 10
   */
  maxConnections?: number | undefined;
  /**
   * How long to wait for a connection (a new one, or a free one of the pool)
   * before the query fails.
   * @default 10000
   */
  connectionTimeoutMs?: number | undefined;
  /**
   * Server-side `statement_timeout` of every connection, so a stuck statement
   * fails instead of holding a request and a connection forever. `0` turns it
   * off. Migrations lift it for their own transaction.
   * @default 30000
   */
  statementTimeoutMs?: number | undefined;
  /**
   * Called when an idle connection fails (the server restarted, the network
   * dropped); the pool replaces it at the next query.
   * @default a warning on stderr
   */
  onError?: ((error: Error) => void) | undefined;
}

/** Connect a pool to a PostgreSQL server at `url` (`postgres://user:pass@host:port/db`). */
export async function openPgDatabase(url: string, options: PgDatabaseOptions = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    application_name: 'sightline-collector',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
  });
  // An idle client that loses its server emits 'error' on the pool; without a
  // listener Node would crash the process. Report it; the next query reconnects.
  const onError =
    options.onError ?? ((error: Error) => process.emitWarning(`[sightline] idle PostgreSQL connection failed: ${error.message}`));
  pool.on('error', (error) => onError(error));
  // Fail fast at start when the server is unreachable, not at the first event.
  const probe = await pool.connect();
  probe.release();
  let closed: Promise<void> | undefined;

  const wrap = (client: pg.Pool | pg.PoolClient): Required<Queryable> => ({
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await client.query<R>(sql, params ? [...params] : undefined);
      return { rows: result.rows };
    },
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple protocol, which runs several statements.
      await client.query(sql);
    },
    async copyIn(table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
      if (!(client instanceof pg.Pool)) return pgCopyIn(client, table, columns, chunks);
      const connection = await client.connect();
      let broken: Error | undefined;
      try {
        await pgCopyIn(connection, table, columns, chunks);
      } catch (error) {
        // After the server refuses a COPY the connection is ready again; after anything else, drop it.
        if (!(error instanceof pg.DatabaseError)) broken = error as Error;
        throw error;
      } finally {
        connection.release(broken);
      }
    },
  });
  const root = wrap(pool);

  return {
    kind: 'postgres',
    ...root,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A client whose ROLLBACK failed may sit in an aborted transaction:
      // destroy it instead of handing it to the next caller.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
