import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BufferPool } from '../bufferPool';
import { setLogFields } from '../requestLog';
import { parseAuthorization, type KeyStore } from '../auth';
import { decodeBody } from '../decodeBody';
import { HttpError, type EventError } from '../errors';
import type { EventWriter } from '../eventWriter';
import { isObject } from '../json';
import type { RateLimiter } from '../rateLimiter';
import { isEventError, parseTimestamp, validateEvent, type EventRow, type EventType } from '../validateEvent';

/** What the ingest routes need from the collector. */
export interface IngestDeps {
  keys: KeyStore;
  writer: EventWriter;
  rateLimiter: RateLimiter | null;
  maxEventBytes: number;
  maxBatchBytes: number;
  /** Rows queued or being inserted, shared by every request (see `maxQueuedRows`). */
  backlog: Backlog;
  /** Where the bodies were read (bodyReader): each goes back once decoded. */
  buffers: BufferPool;
}

/** Rows accepted for writing and not yet stored, and the bound past which ingest answers 503. */
export interface Backlog {
  rows: number;
  readonly max: number;
}

/** Batch endpoints: Segment's `/v1/batch`, its browser's `/v1/b`, RudderStack's beacon path. */
export const BATCH_PATHS = ['/v1/batch', '/v1/b', '/beacon/v1/batch'] as const;

/** Single-event endpoints and the type each implies. */
export const SINGLE_PATHS: Readonly<Record<string, EventType>> = {
  '/v1/track': 'track',
  '/v1/t': 'track',
  '/v1/page': 'page',
  '/v1/p': 'page',
  '/v1/screen': 'screen',
  '/v1/s': 'screen',
  '/v1/identify': 'identify',
  '/v1/i': 'identify',
  '/v1/group': 'group',
  '/v1/g': 'group',
  '/v1/alias': 'alias',
  '/v1/a': 'alias',
};

// The project of a request authenticated by its Authorization header, set before the body is read.
const headerProject = new WeakMap<FastifyRequest, string>();

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Register every ingest endpoint on `app`. */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  async function authenticate(writeKey: string | undefined): Promise<string> {
    if (writeKey === undefined) {
      throw new HttpError(401, 'unauthorized', 'Missing write key: send Authorization: Basic base64(writeKey + ":"), or writeKey in the body.');
    }
    const projectId = await deps.keys.projectForWriteKey(writeKey);
    if (projectId === null) throw new HttpError(401, 'unauthorized', 'Unknown write key.');
    const wait = deps.rateLimiter?.take(writeKey) ?? 0;
    if (wait > 0) {
      throw new HttpError(429, 'rate_limited', `Too many requests for this write key; retry in ${wait} s.`, null, {
        'retry-after': String(wait),
      });
    }
    return projectId;
  }

  // Protocol 2.4 step 1, before the body is read: a present Authorization
  // header is authenticated and rate limited here, so a 401 or 429 costs
  // neither the upload nor its buffering.
  async function authenticateHeader(request: FastifyRequest): Promise<void> {
    const auth = parseAuthorization(request.headers.authorization);
    if (auth === null) return;
    if (auth.scheme === 'bearer') {
      throw new HttpError(401, 'unauthorized', 'Ingest takes a write key (Basic auth), not a read token.');
    }
    const projectId = await authenticate(auth.writeKey);
    headerProject.set(request, projectId);
    setLogFields(request, { projectId });
  }

  async function ingest(request: FastifyRequest, forcedType: EventType | undefined) {
    const receivedAt = new Date().toISOString();
    let projectId = headerProject.get(request);
    let body;
    try {
      body = await decodeBody(request.body, request.headers['content-encoding'], deps.maxBatchBytes, forcedType === undefined);
    } finally {
      // Decoded into strings and objects (or refused): nothing reads the bytes again.
      if (Buffer.isBuffer(request.body)) deps.buffers.give(request.body);
      request.body = undefined;
    }
    const value = body.value;
    if (!isObject(value)) throw new HttpError(400, 'invalid_body', 'The body must be a JSON object.');
    if (projectId === undefined) {
      const query = request.query as Record<string, unknown>;
      projectId = await authenticate(stringOrUndefined(value['writeKey']) ?? stringOrUndefined(query['writeKey']));
      setLogFields(request, { projectId });
    }

    let events: unknown[];
    let sentAt: string | null = null;
    if (forcedType === undefined) {
      if (!Array.isArray(value['batch'])) throw new HttpError(400, 'invalid_body', 'The body must have a `batch` array of events.');
      events = value['batch'];
      if (value['sentAt'] !== undefined && value['sentAt'] !== null) {
        sentAt = parseTimestamp(value['sentAt']) ?? null;
        if (sentAt === null) throw new HttpError(400, 'invalid_body', 'sentAt must be an ISO 8601 date-time with a time zone.');
      }
    } else {
      events = [value];
    }

    // No event can be larger than the whole body: skip measuring when the body is small.
    const maxEventBytes = body.bytes > deps.maxEventBytes ? deps.maxEventBytes : Infinity;
    const rows: EventRow[] = [];
    const errors: EventError[] = [];
    for (let index = 0; index < events.length; index++) {
      const result = validateEvent(events[index], { index, receivedAt, sentAt, forcedType, maxEventBytes });
      if (isEventError(result)) errors.push(result);
      else rows.push(result);
    }
    // The writer's queue has no bound of its own: past maxQueuedRows refuse
    // (nothing stored; the client retries) rather than grow memory without end.
    // A batch larger than the bound still goes through when nothing is queued.
    const { backlog } = deps;
    if (rows.length > 0 && backlog.rows > 0 && backlog.rows + rows.length > backlog.max) {
      throw new HttpError(503, 'unavailable', 'The collector is busy storing earlier events; retry shortly.', null, { 'retry-after': '1' });
    }
    backlog.rows += rows.length;
    let written;
    try {
      written = await deps.writer.write(projectId, receivedAt, rows);
    } finally {
      backlog.rows -= rows.length;
    }
    setLogFields(request, { accepted: written.accepted, duplicates: written.duplicates, invalid: errors.length });
    return { written, errors, total: events.length };
  }

  const handler = (forcedType: EventType | undefined) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { written, errors, total } = await ingest(request, forcedType);
    reply.header('cache-control', 'no-store');
    if (errors.length === 0) return reply.code(200).send(written);
    const error = new HttpError(400, 'invalid_events', `${errors.length} of ${total} events are invalid; the others were stored.`, errors);
    return reply.code(400).send({ ...error.toBody(), ...written });
  };

  const preParsing = async (request: FastifyRequest) => authenticateHeader(request);
  for (const path of BATCH_PATHS) app.post(path, { preParsing }, handler(undefined));
  for (const [path, type] of Object.entries(SINGLE_PATHS)) app.post(path, { preParsing }, handler(type));
}
