import type { Queryable } from './database';
import { hashSecret } from './credentials';

/** What an `Authorization` header carries. */
export type Authorization = { scheme: 'basic'; writeKey: string } | { scheme: 'bearer'; token: string };

/**
 * Read `Basic base64(writeKey + ":")` (the Segment form; the colon and an
 * ignored password are optional) or `Bearer <token>`.
 */
export function parseAuthorization(header: string | undefined): Authorization | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (value.length === 0) return null;
  if (scheme === 'bearer') return { scheme: 'bearer', token: value };
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const writeKey = colon < 0 ? decoded : decoded.slice(0, colon);
  return writeKey.length > 0 ? { scheme: 'basic', writeKey } : null;
}

/** Resolves keys and tokens to their project, with a small cache for the hot path. */
export interface KeyStore {
  /** Project of a write key, or `null` when unknown. */
  projectForWriteKey(writeKey: string): Promise<string | null>;
  /** Project of a read token, or `null` when unknown. */
  projectForReadToken(token: string): Promise<string | null>;
}

interface CacheEntry {
  projectId: string;
  expires: number;
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Cache known keys for a minute so ingest does not query per request; unknown
 * keys are never cached, so a key created by another process works at once.
 */
export function createKeyStore(db: Queryable): KeyStore {
  const cache = new Map<string, CacheEntry>();

  async function lookup(kind: 'w' | 'r', secret: string): Promise<string | null> {
    const cacheKey = `${kind}:${secret}`;
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > now) return hit.projectId;
    const sql =
      kind === 'w'
        ? 'SELECT project_id FROM write_keys WHERE key_hash = $1'
        : 'SELECT project_id FROM read_tokens WHERE token_hash = $1';
    const { rows } = await db.query<{ project_id: string }>(sql, [hashSecret(secret)]);
    const projectId = rows[0]?.project_id ?? null;
    if (projectId === null) {
      cache.delete(cacheKey);
      return null;
    }
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(cacheKey, { projectId, expires: now + TTL_MS });
    return projectId;
  }

  return {
    projectForWriteKey: (writeKey) => lookup('w', writeKey),
    projectForReadToken: (token) => lookup('r', token),
  };
}
