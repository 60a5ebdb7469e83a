import type { Queryable } from './database';
import { hashSecret } from './credentials';
import { HttpError } from './errors';

/** What an `Authorization` header carries. */
export type Authorization = { scheme: 'basic'; writeKey: string } | { scheme: 'bearer'; token: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function unusable(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message);
}

/**
 * Read `Basic base64(writeKey + ":")` (the Segment form; the colon and an
 * ignored password are optional) or `Bearer <token>`. Returns `null` only
 * when there is no header: a present header that is neither a usable Basic
 * nor a Bearer (another scheme, no value, bad base64, an empty key) throws a
 * `401 unauthorized`, so it never falls back to a key in the body or query.
 */
export function parseAuthorization(header: string | undefined): Authorization | null {
  if (header === undefined) return null;
  const trimmed = header.trim();
  const space = trimmed.search(/\s/);
  const scheme = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : trimmed.slice(space + 1).trim();
  if (scheme === 'bearer') {
    if (value.length === 0) throw unusable('Empty Authorization: Bearer header.');
    return { scheme: 'bearer', token: value };
  }
  if (scheme !== 'basic') {
    throw unusable('Unsupported Authorization header: send Basic base64(writeKey + ":") or Bearer <read token>.');
  }
  if (!BASE64.test(value)) throw unusable('Authorization: Basic needs base64(writeKey + ":").');
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const writeKey = colon < 0 ? decoded : decoded.slice(0, colon);
  if (writeKey.length === 0) throw unusable('Authorization: Basic carries an empty write key.');
  return { scheme: 'basic', writeKey };
}

/** Resolves keys and tokens to their project, with a small cache for the hot path. */
export interface KeyStore {
  /** Project of a write key, or `null` when unknown. */
  projectForWriteKey(writeKey: string): Promise<string | null>;
  /** Project of a read token, or `null` when unknown. */
  projectForReadToken(token: string): Promise<string | null>;
  /** Forget cached misses, e.g. after creating a project in this process. */
  forgetMisses(): void;
}

/** Tuning of {@link createKeyStore}; the defaults suit production. */
export interface KeyStoreOptions {
  /** How long a known key is trusted without a query. @default 60000 */
  hitTtlMs?: number | undefined;
  /** How long an unknown key is refused without a query. @default 1000 */
  missTtlMs?: number | undefined;
  /** Entries per map (hits, misses) before it is emptied. @default 10000 */
  maxEntries?: number | undefined;
  /** Clock, for tests. */
  now?: (() => number) | undefined;
}

/**
 * Cache known keys for a minute so ingest does not query per request, and
 * unknown ones for a second, so a flood of random keys costs about one query
 * per distinct key per second rather than one per request, while a key
 * created by another process works within a second. Both maps are bounded.
 */
export function createKeyStore(db: Queryable, options: KeyStoreOptions = {}): KeyStore {
  const hitTtl = options.hitTtlMs ?? 60_000;
  const missTtl = options.missTtlMs ?? 1_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const clock = options.now ?? Date.now;
  const hits = new Map<string, { projectId: string; expires: number }>();
  const misses = new Map<string, number>();

  async function lookup(kind: 'w' | 'r', secret: string): Promise<string | null> {
    const cacheKey = `${kind}:${secret}`;
    const now = clock();
    const hit = hits.get(cacheKey);
    if (hit && hit.expires > now) return hit.projectId;
    const missUntil = misses.get(cacheKey);
    if (missUntil !== undefined) {
      if (missUntil > now) return null;
      misses.delete(cacheKey);
    }
    const sql =
      kind === 'w'
        ? 'SELECT project_id FROM write_keys WHERE key_hash = $1'
        : 'SELECT project_id FROM read_tokens WHERE token_hash = $1';
    const { rows } = await db.query<{ project_id: string }>(sql, [hashSecret(secret)]);
    const projectId = rows[0]?.project_id ?? null;
    if (projectId === null) {
      hits.delete(cacheKey);
      if (misses.size >= maxEntries) misses.clear();
      misses.set(cacheKey, now + missTtl);
      return null;
    }
    if (hits.size >= maxEntries) hits.clear();
    hits.set(cacheKey, { projectId, expires: now + hitTtl });
    return projectId;
  }

  return {
    projectForWriteKey: (writeKey) => lookup('w', writeKey),
    projectForReadToken: (token) => lookup('r', token),
    forgetMisses: () => misses.clear(),
  };
}
