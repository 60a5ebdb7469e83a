import type { FastifyInstance } from 'fastify';
import type { KeyStore } from '../auth';
import { authenticateReader } from '../routes/events';
import { isChannelName } from './channels';
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

const body = ({ frames, more }: { frames: string[]; more: boolean }) => `{"frames":[${frames.join(',')}],"more":${more}}`;

/**
 * Register `GET /v1/realtime/poll` (protocol 9.4): stateless long polling over the same cursors
 * as the socket. Answers at once when a channel needs `subscribed`/`reset`/`error` or has
 * messages after its `since`; otherwise holds until a message, `wait`, or shutdown.
 */
export function registerPollRoute(app: FastifyInstance, deps: { keys: KeyStore; hub: RealtimeHub }): void {
  const { hub } = deps;

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
    const projectId = await authenticateReader(deps.keys, request);
    const { requests, wait } = parsePollQuery(request.query as Record<string, unknown>, hub.options.maxSubscriptions);
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
  });
}
