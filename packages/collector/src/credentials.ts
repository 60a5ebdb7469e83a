import { createHash, randomBytes } from 'node:crypto';
import type { Database } from './database';

/** A project to create (idempotently) at start or through `collector.createProject()`. */
export interface ProjectSeed {
  /**
   * Stable id, the tenant id on every row: 1-64 letters, digits, `_`, `.`, `-`.
   * @default a new random id (`p_` and 16 hex digits)
   */
  id?: string | undefined;
  /**
   * Display name.
   * @default the id
   */
  name?: string | undefined;
  /** Write key for ingest; generated when omitted. */
  writeKey?: string | undefined;
  /** Read token for queries; generated when omitted. */
  readToken?: string | undefined;
  /**
   * Days to keep events (by the time they were received); the collector's
   * retention sweep deletes older ones. When given for an existing project,
   * its retention is updated.
   * @default 365 for a new project
   */
  retentionDays?: number | undefined;
}

/** A project and one write key and read token of it. */
export interface ProjectCredentials {
  projectId: string;
  writeKey: string;
  readToken: string;
}

/** SHA-256 hex: what the database stores instead of keys and tokens. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const PROJECT_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Create the project and attach its key and token, all idempotent: running it
 * again at every start changes nothing. Throws when the key or token already
 * belongs to another project, since silently sharing one would mix tenants.
 */
export async function ensureProject(db: Database, seed: ProjectSeed): Promise<ProjectCredentials> {
  const projectId = seed.id ?? `p_${randomBytes(8).toString('hex')}`;
  if (!PROJECT_ID.test(projectId)) {
    throw new Error(`[sightline] Project id "${projectId}" must be 1-64 characters of letters, digits, "_", "." or "-".`);
  }
  const writeKey = seed.writeKey ?? `wk_${randomBytes(16).toString('hex')}`;
  const readToken = seed.readToken ?? `rt_${randomBytes(24).toString('hex')}`;
  if (writeKey === readToken) throw new Error('[sightline] A write key and a read token must differ.');
  if (writeKey.length === 0 || readToken.length === 0) throw new Error('[sightline] Keys and tokens must not be empty.');
  const retentionDays = seed.retentionDays;
  if (retentionDays !== undefined && !(Number.isInteger(retentionDays) && retentionDays > 0)) {
    throw new Error(`[sightline] retentionDays must be a positive integer, got ${retentionDays}.`);
  }

  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO projects (id, name, retention_days) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
      [projectId, seed.name ?? projectId, retentionDays ?? 365],
    );
    if (retentionDays !== undefined) {
      await tx.query('UPDATE projects SET retention_days = $2 WHERE id = $1 AND retention_days <> $2', [projectId, retentionDays]);
    }
    const key = await tx.query<{ project_id: string }>(
      `WITH ins AS (INSERT INTO write_keys (key_hash, project_id) VALUES ($1, $2) ON CONFLICT (key_hash) DO NOTHING RETURNING project_id)
       SELECT project_id FROM ins UNION ALL SELECT project_id FROM write_keys WHERE key_hash = $1`,
      [hashSecret(writeKey), projectId],
    );
    const token = await tx.query<{ project_id: string }>(
      `WITH ins AS (INSERT INTO read_tokens (token_hash, project_id) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING RETURNING project_id)
       SELECT project_id FROM ins UNION ALL SELECT project_id FROM read_tokens WHERE token_hash = $1`,
      [hashSecret(readToken), projectId],
    );
    if (key.rows.some((row) => row.project_id !== projectId) || token.rows.some((row) => row.project_id !== projectId)) {
      throw new Error(`[sightline] The write key or read token given for project "${projectId}" belongs to another project.`);
    }
  });
  return { projectId, writeKey, readToken };
}
