/** One row of a query result, keyed by column name. */
export type Row = Record<string, unknown>;

/** What a query returns. */
export interface QueryResult<R extends Row = Row> {
  rows: R[];
}

/** The queries a transaction may run; the same shape as {@link Database} without lifecycle. */
export interface Queryable {
  /** Run one statement with `$1..$n` parameters. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Run a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Load `chunks`, whole tuples of binary COPY (header and trailer left out: the
   * implementation adds them), into `table (columns)`: all rows or none.
   * Optional: without it the event writer stores with `query` alone.
   */
  copyIn?(table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void>;
}

/**
 * The storage the collector needs: PGlite and a PostgreSQL pool both implement
 * it, and both run the very same SQL.
 */
export interface Database extends Queryable {
  /** Which engine backs it, for logs and `/healthz`. */
  readonly kind: 'pglite' | 'postgres';
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Release the connection(s) or the embedded engine. Idempotent. */
  close(): Promise<void>;
}
