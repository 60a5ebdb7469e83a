import type { FastifyInstance } from 'fastify';
import type { Database } from '../database';
import { HttpError } from '../errors';

/**
 * Register `GET /healthz`: 200 when the database answers, 503 when not. The
 * answer needs no credentials, so it never carries the database's error text
 * (host names, user names); the detail goes to the log.
 */
export function registerHealthRoute(app: FastifyInstance, db: Database): void {
  app.get('/healthz', async (request) => {
    try {
      await db.query('SELECT 1');
    } catch (error) {
      request.log.error({ err: error }, 'health check: the database does not answer');
      throw new HttpError(503, 'unavailable', 'The database does not answer.');
    }
    return { status: 'ok', database: db.kind };
  });
}
