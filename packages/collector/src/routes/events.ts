import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseAuthorization, type KeyStore } from '../auth';
import type { Queryable } from '../database';
import { HttpError } from '../errors';
import type { EventRow } from '../validateEvent';

/** One stored event as `GET /v1/events/recent` returns it. */
export interface StoredEvent {
  messageId: string;
  type: string;
  event: string | null;
  name: string | null;
  userId: string | null;
  anonymousId: string | null;
  groupId: string | null;
  previousId: string | null;
  sessionId: string | null;
  /** ISO 8601, UTC. */
  timestamp: string;
  sentAt: string | null;
  receivedAt: string;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** A row just validated and stored, as `GET /v1/events/recent` would return it (realtime `events`). */
export function storedEventOf(row: EventRow, receivedAt: string): StoredEvent {
  return {
    messageId: row.messageId,
    type: row.type,
    event: row.event,
    name: row.name,
    userId: row.userId,
    anonymousId: row.anonymousId,
    groupId: row.groupId,
    previousId: row.previousId,
    sessionId: row.sessionId,
    timestamp: row.timestamp,
    sentAt: row.sentAt,
    receivedAt,
    // The texts validation produced; parsed again only while someone watches `events`.
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    traits: JSON.parse(row.traits) as Record<string, unknown>,
    context: JSON.parse(row.context) as Record<string, unknown>,
  };
}

/** Default and largest `limit` of `GET /v1/events/recent`. */
export const RECENT_LIMIT = { default: 50, max: 1000 } as const;

/**
 * Check a read token and return its project. A known write key, sent as
 * Basic or as Bearer, is refused with 403, so a key shipped in a web page can
 * never read data back; anything unknown or unusable is 401.
 */
export async function authenticateReader(keys: KeyStore, request: FastifyRequest): Promise<string> {
  const auth = parseAuthorization(request.headers.authorization);
  if (auth === null) throw new HttpError(401, 'unauthorized', 'Missing read token: send Authorization: Bearer <read token>.');
  if (auth.scheme === 'basic') {
    if ((await keys.projectForWriteKey(auth.writeKey)) !== null) {
      throw new HttpError(403, 'forbidden', 'A write key cannot read; use a read token (Authorization: Bearer).');
    }
    throw new HttpError(401, 'unauthorized', 'Unknown key: send Authorization: Bearer <read token>.');
  }
  const projectId = await keys.projectForReadToken(auth.token);
  if (projectId === null) {
    // A write key sent as a bearer token is still a write key: say so.
    const isWriteKey = (await keys.projectForWriteKey(auth.token)) !== null;
    if (isWriteKey) throw new HttpError(403, 'forbidden', 'A write key cannot read; use a read token.');
    throw new HttpError(401, 'unauthorized', 'Unknown read token.');
  }
  return projectId;
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

interface EventRecord {
  message_id: string;
  type: string;
  event: string | null;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  group_id: string | null;
  previous_id: string | null;
  session_id: string | null;
  timestamp: unknown;
  sent_at: unknown;
  received_at: unknown;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  [column: string]: unknown;
}

/** Register `GET /v1/events/recent`. */
export function registerEventRoutes(app: FastifyInstance, deps: { db: Queryable; keys: KeyStore }): void {
  app.get('/v1/events/recent', async (request) => {
    const projectId = await authenticateReader(deps.keys, request);
    const raw = (request.query as Record<string, unknown>)['limit'];
    let limit: number = RECENT_LIMIT.default;
    if (raw !== undefined) {
      // Digits only: Number() would also take 1e3, 0x10, 1.0 or ' 5'.
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) {
        throw new HttpError(400, 'invalid_query', 'limit must be a positive integer (digits only).');
      }
      limit = Math.min(Number(raw), RECENT_LIMIT.max);
    }
    const { rows } = await deps.db.query<EventRecord>(
      `SELECT message_id, type, event, name, user_id, anonymous_id, group_id, previous_id, session_id,
              timestamp, sent_at, received_at, properties, traits, context
         FROM events WHERE project_id = $1
        ORDER BY received_at DESC, seq DESC
        LIMIT $2`,
      [projectId, limit],
    );
    const events: StoredEvent[] = rows.map((row) => ({
      messageId: row.message_id,
      type: row.type,
      event: row.event,
      name: row.name,
      userId: row.user_id,
      anonymousId: row.anonymous_id,
      groupId: row.group_id,
      previousId: row.previous_id,
      sessionId: row.session_id,
      timestamp: iso(row.timestamp) ?? '',
      sentAt: iso(row.sent_at),
      receivedAt: iso(row.received_at) ?? '',
      properties: row.properties,
      traits: row.traits,
      context: row.context,
    }));
    return { events };
  });
}
