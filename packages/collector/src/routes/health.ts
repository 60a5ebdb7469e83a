import type { FastifyInstance } from 'fastify';
import type { Database } from '../database';
import { HttpError } from '../errors';

/** Register `GET /healthz`: 200 when the database answers, 503 when not. */
export function registerHealthRoute(app: FastifyInstance, db: Database): void {
  app.get('/healthz', async () => {
    try {
      await db.query('SELECT 1');
    } catch (error) {
      throw new HttpError(503, 'unavailable', `The database does not answer: ${(error as Error).message}`);
    }
    return { status: 'ok', database: db.kind };
  });
}
