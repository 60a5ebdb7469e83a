import type pg from 'pg';
import { copyData } from './copyRows';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]); // 'c', length 4

/**
 * `COPY ... FROM STDIN` as a pg Submittable whose data goes out right behind
 * the statement, without waiting for the server's CopyInResponse. The
 * collector's event loop is busy parsing other requests; a COPY that waited
 * for its turn there to start sending (as pg-copy-streams does) left the
 * server idle for most of its time. Sending early is safe: when the statement
 * fails before or during the copy, the server skips the CopyData and CopyDone
 * messages that follow (protocol, "COPY Operations").
 */
class CopyIn implements pg.Submittable {
  // The server's answer (undefined: none yet; null: committed) and whether the socket took the last byte.
  private answer: Error | null | undefined;
  private submitted = false;
  private sent = false;

  constructor(
    private readonly sql: string,
    private readonly chunks: readonly Buffer[],
    private readonly settle: (error?: Error) => void,
  ) {}

  submit(connection: pg.Connection): void {
    this.submitted = true;
    connection.query(this.sql);
    // One CopyData message per chunk: each holds whole rows, which the protocol does not even require.
    for (const chunk of copyData(this.chunks)) {
      const header = Buffer.allocUnsafe(5);
      header[0] = COPY_DATA;
      header.writeUInt32BE(chunk.length + 4, 1);
      connection.stream.write(header);
      connection.stream.write(chunk);
    }
    // Writes complete in order: after this one the socket holds none of the chunks any more, so the
    // caller may reuse their memory (an error can come back while they still wait to be written).
    connection.stream.write(COPY_DONE, () => {
      this.sent = true;
      this.finish();
    });
  }

  private finish(): void {
    if (this.sent && this.answer !== undefined) this.settle(this.answer ?? undefined);
  }

  // pg calls these by name as the server answers; only the end and errors matter here.
  handleCopyInResponse(): void {}
  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.answer ??= null;
    this.finish();
  }

  // pg hands over an error instead of ReadyForQuery, and readies the connection itself.
  handleError(error: Error): void {
    this.answer ??= error;
    // pg also fails a query it never submitted (a client ended, or one that died while the query
    // waited): nothing of it was written, so nothing to wait for.
    if (!this.submitted) this.sent = true;
    this.finish();
  }
}

/** Run `COPY table (columns) FROM STDIN` with `chunks` (binary COPY tuples, see copyRows) on `client`; resolves once committed. */
export function pgCopyIn(client: pg.ClientBase, table: string, columns: readonly string[], chunks: readonly Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sql = `COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`;
    client.query(new CopyIn(sql, chunks, (error) => (error ? reject(error) : resolve())));
  });
}
