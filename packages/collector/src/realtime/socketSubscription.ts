import { resetText, subscribedText } from './frames';
import type { RealtimeHub, Resolution } from './hubTypes';
import { REALTIME_LIMITS } from './options';

/** What a subscription needs from its socket. */
export interface SubscriptionSocket {
  /** Send a frame (head frames and history pages); false once the socket is closed. */
  send(text: string): boolean;
  /** Send a live message unless the client is too slow (then the socket closes with 4503); false when not sent. */
  sendLive(text: string): boolean;
  /** Resolves once what was sent so far left the process (or the socket closed): backpressure for history pages. */
  drained(): Promise<void>;
  /** A failure that ends the socket (1011). */
  fail(error: unknown): void;
}

/** One channel subscribed on one socket. */
export interface SocketSubscription {
  /** Resolve the cursor and send `subscribed`/`reset` and the first page; the rest follows in the background. */
  start(since: number | null, epoch: string | null): Promise<void>;
  stop(): void;
}

/**
 * Per socket and channel, `sent` is the last seq sent. A live message goes out only when it is
 * exactly `sent + 1`; anything else (a skip, messages that were not at hand, a backlog) is read
 * from the history by one catch-up loop at a time, whose pages wait for the socket to drain.
 */
export function createSocketSubscription(
  hub: RealtimeHub,
  socket: SubscriptionSocket,
  projectId: string,
  channel: string,
): SocketSubscription {
  // -1 until the first resolve answered: live messages meanwhile are covered by the check after it.
  let sent = -1;
  let epoch = '';
  let stopped = false;
  let catching = false;
  let again = false;
  // Bumped by a reset, so that a page read before it is not sent after it.
  let generation = 0;

  const unwatch = hub.watch(projectId, channel, {
    holdsLease: true,
    notify(lastSeq, frames) {
      if (stopped || sent < 0 || lastSeq <= sent) return;
      if (catching) {
        again = true;
        return;
      }
      if (frames && frames.length > 0 && frames[0]!.seq <= sent + 1) {
        for (const frame of frames) {
          if (frame.seq <= sent) continue;
          if (!socket.sendLive(frame.text)) return;
          sent = frame.seq;
        }
        if (lastSeq <= sent) return;
      }
      void catchUp();
    },
    reset(head) {
      if (stopped || sent < 0) return;
      socket.send(resetText(channel, head.lastSeq, head.epoch, sent));
      sent = head.lastSeq;
      epoch = head.epoch;
      generation++;
    },
  });

  /** Send a resolution's messages; false when the socket is gone. */
  function sendMessages(resolution: Resolution): boolean {
    for (const message of resolution.messages) {
      if (!socket.send(message.text)) return false;
      sent = message.seq;
    }
    return true;
  }

  async function catchUp(): Promise<void> {
    if (catching) {
      again = true;
      return;
    }
    catching = true;
    try {
      for (;;) {
        again = false;
        const from = sent;
        const seen = generation;
        const [resolution] = await hub.resolve(projectId, [{ channel, since: from, epoch }], {
          lease: false,
          limit: REALTIME_LIMITS.maxMessagesPerRead,
        });
        if (stopped || !resolution) return;
        if (seen !== generation) continue;
        if (resolution.outcome !== 'resumed') {
          // Fell behind the history (or its epoch changed): say so instead of leaving a gap.
          socket.send(resetText(channel, resolution.seq, resolution.epoch, from));
          sent = resolution.seq;
          epoch = resolution.epoch;
          generation++;
        } else {
          if (!sendMessages(resolution)) return;
          if (resolution.messages.length > 0) {
            await socket.drained();
            if (stopped) return;
          } else if (!again) {
            // Nothing to read and nothing new announced: done, rather than spin on `known`.
            return;
          }
        }
        if (!resolution.more && !again && hub.known(projectId, channel) <= sent) return;
      }
    } catch (error) {
      if (!stopped) socket.fail(error);
    } finally {
      catching = false;
    }
  }

  return {
    async start(since, cursorEpoch) {
      const [resolution] = await hub.resolve(projectId, [{ channel, since, epoch: cursorEpoch }], {
        lease: true,
        limit: REALTIME_LIMITS.maxMessagesPerRead,
      });
      if (stopped || !resolution) return;
      socket.send(
        resolution.outcome === 'reset'
          ? resetText(channel, resolution.seq, resolution.epoch, since)
          : subscribedText(channel, resolution.seq, resolution.epoch),
      );
      epoch = resolution.epoch;
      sent = resolution.seq;
      if (!sendMessages(resolution)) return;
      if (resolution.more || hub.known(projectId, channel) > sent) void catchUp();
    },
    stop() {
      stopped = true;
      unwatch();
    },
  };
}
