import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database';

/**
 * The migrations folder shipped with the package. Both `src/` (tests) and
 * `dist/` (built, installed from a tarball) sit one level below the package
 * root, next to `migrations/`.
 */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../migrations/', import.meta.url));
}

/** One versioned SQL file, e.g. `0001_init.sql` has version `0001`. */
export interface Migration {
  version: string;
  name: string;
  sql: string;
}

/** Read `NNNN_name.sql` files in version order. */
export async function loadMigrations(dir: string = defaultMigrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d+_[\w-]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => {
      const [version = file] = file.split('_', 1);
      return { version, name: file, sql: await readFile(join(dir, file), 'utf8') };
    }),
  );
}

// Any constant works; it only has to be the same in every collector process.
const MIGRATION_LOCK_ID = 0x5157_1e;

/**
 * Apply the migrations not yet recorded in `schema_migrations`, in order, in
 * one transaction. An advisory lock serialises collectors that start at the
 * same time on one PostgreSQL server. Returns the versions applied now.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    // An index on a large table may take longer than the pool's statement_timeout.
    await tx.exec('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    text PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await tx.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
