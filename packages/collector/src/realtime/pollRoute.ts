import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseAuthorization, type KeyStore } from '../auth';
import { HttpError } from '../errors';
import { createRateLimiter } from '../rateLimiter';
import { authenticateReader } from '../routes/events';
import { isChannelName } from './channels';
import { createConcurrencyLimit } from './concurrencyLimit';
import { errorText, resetText, subscribedText } from './frames';
import type { RealtimeHub, SubscribeRequest } from './hubTypes';
import { REALTIME_LIMITS } from './options';
import { parsePollQuery } from './pollQuery';

/** One answer: the frames' JSON texts, and whether it must be sent now. */
interface Collected {
  frames: string[];
  more: boolean;
  urgent: boolean;
}

// Held polls end within `wait` (at most 25 s): a few seconds lets some of them finish first.
const BUSY_RETRY_AFTER_SEC = 5;

const body = ({ frames, more }: { frames: string[]; more: boolean }) => `{"frames":[${frames.join(',')}],"more":${more}}`;

/**
 * Register `GET /v1/realtime/poll` (protocol 9.4): stateless long polling over the same cursors
 * as the socket. Answers at once when a channel needs `subscribed`/`reset`/`error` or has
 * messages after its `since`; otherwise holds until a message, `wait`, or shutdown.
 */
export function registerPollRoute(app: FastifyInstance, deps: { keys: KeyStore; hub: RealtimeHub }): void {
  const { hub } = deps;
  const { pollsPerSecond, pollBurst, maxWaitingPolls } = hub.options;
  // The ingest token bucket, keyed by read token here.
  const rate = createRateLimiter({ requestsPerSecond: pollsPerSecond, burst: pollBurst });
  const waiting = createConcurrencyLimit(maxWaitingPolls);

  // A poll must not start leasing and reading a database that is closing; the client polls another process or again.
  const refuseIfShuttingDown = () => {
    if (hub.shuttingDown) {
      throw new HttpError(503, 'unavailable', 'The collector is shutting down; retry shortly.', null, { 'retry-after': '1' });
    }
  };

  async function collect(projectId: string, requests: readonly SubscribeRequest[], lease: boolean): Promise<Collected> {
    const frames: string[] = [];
    let urgent = false;
    const valid = requests.filter((r) => isChannelName(r.channel));
    const resolutions = await hub.resolve(projectId, valid, { lease, limit: REALTIME_LIMITS.maxMessagesPerRead });
    const byChannel = new Map(resolutions.map((r) => [r.channel, r]));
    let more = false;
    for (const request of requests) {
      const r = byChannel.get(request.channel);
      if (!r) {
        frames.push(errorText(request.channel, 'invalid_channel', 'Not a channel: events, alerts, insights, health or metrics:<name>.'));
        urgent = true;
      } else if (r.outcome === 'new') {
        frames.push(subscribedText(r.channel, r.seq, r.epoch));
        urgent = true;
      } else if (r.outcome === 'reset') {
        frames.push(resetText(r.channel, r.seq, r.epoch, request.since));
        urgent = true;
      } else {
        // A resumable cursor needs no `subscribed`: its messages follow `since` directly.
        for (const message of r.messages) frames.push(message.text);
        if (r.messages.length > 0) urgent = true;
        if (r.more) more = urgent = true;
      }
    }
    return { frames, more, urgent };
  }

  app.get('/v1/realtime/poll', async (request, reply) => {
    refuseIfShuttingDown();
    const projectId = await authenticateReader(deps.keys, request);
    // Authenticated, so the header is a bearer token.
    const auth = parseAuthorization(request.headers.authorization);
    const retryAfter = rate.take(auth?.scheme === 'bearer' ? auth.token : projectId);
    if (retryAfter > 0) {
      throw new HttpError(429, 'rate_limited', `Too many polls for this read token; retry in ${retryAfter} s.`, null, {
        'retry-after': String(retryAfter),
      });
    }
    const { requests, wait } = parsePollQuery(request.query as Record<string, unknown>, hub.options.maxSubscriptions);
    // Shutdown may have begun while the token was looked up.
    refuseIfShuttingDown();
    const release = waiting.acquire(projectId);
    if (release === null) {
      throw new HttpError(
        429,
        'rate_limited',
        `Too many polls in progress for this project (at most ${maxWaitingPolls}); retry in ${BUSY_RETRY_AFTER_SEC} s, or use the WebSocket.`,
        null,
        { 'retry-after': String(BUSY_RETRY_AFTER_SEC) },
      );
    }
    try {
      return await respond(projectId, requests, wait, reply);
    } finally {
      release();
    }
  });

  /** Collect at once, or hold until a message, `wait`, the client leaving, or shutdown. */
  async function respond(projectId: string, requests: SubscribeRequest[], wait: number, reply: FastifyReply): Promise<FastifyReply> {
    void reply.header('cache-control', 'no-store').type('application/json; charset=utf-8');

    const deadline = Date.now() + wait * 1000;
    let woken = false;
    let wake: () => void = () => (woken = true);
    // Watch before the first read: a message committed after it is then surely announced to us.
    const stops = requests
      .filter((r) => isChannelName(r.channel))
      .map((r) => hub.watch(projectId, r.channel, { holdsLease: false, notify: () => wake(), reset: () => wake() }));
    stops.push(hub.onShutdown(() => wake()));
    let gone = false;
    const onGone = () => {
      gone = true;
      wake();
    };
    reply.raw.once('close', onGone);
    let timer: NodeJS.Timeout | undefined;
    try {
      let lease = true;
      for (;;) {
        woken = false;
        const answer = await collect(projectId, requests, lease);
        lease = false;
        const left = deadline - Date.now();
        if (answer.urgent || left <= 0 || hub.shuttingDown || gone) return reply.send(body(answer));
        if (!woken) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, left);
          });
          clearTimeout(timer);
          wake = () => (woken = true);
        }
        // Shutting down: answer now without asking the database again.
        if (hub.shuttingDown || gone) return reply.send(body({ frames: [], more: false }));
      }
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onGone);
      for (const stop of stops) stop();
    }
  }
}
