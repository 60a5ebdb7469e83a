import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server started for this run (database `postgres`). */
    databaseUrl: string;
  }
}

/**
 * Vitest globalSetup: one PostgreSQL server for the whole run, its URL
 * provided as `inject('databaseUrl')`. Test files create their own database
 * on it (`createDatabase`) so they never see each other's rows.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('databaseUrl', server.url);
  return () => server.stop();
}
