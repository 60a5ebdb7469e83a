import { HttpError } from '../errors';
import type { SubscribeRequest } from './hubTypes';
import { REALTIME_LIMITS } from './options';

/** A parsed `GET /v1/realtime/poll` query (protocol 9.4). */
export interface PollQuery {
  /** In the order given; `channel` is not checked here (a bad name gets an `error` frame, not a 400). */
  requests: SubscribeRequest[];
  /** Seconds to hold the request when nothing is there yet. */
  wait: number;
}

const DIGITS = /^\d+$/;

function all(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function invalid(message: string): HttpError {
  return new HttpError(400, 'invalid_query', message);
}

/**
 * Read the repeated `channel`, `since` and `epoch` parameters (the i-th of each belong together;
 * an empty `since` means no cursor) and `wait` (0 to 25, default 25). Throws `400 invalid_query`.
 */
export function parsePollQuery(query: Record<string, unknown>, maxChannels: number): PollQuery {
  const channels = all(query['channel']);
  const sinces = all(query['since']);
  const epochs = all(query['epoch']);
  if (channels.length === 0) throw invalid('Name at least one channel (channel=...&since=...&epoch=...).');
  if (sinces.length !== channels.length || epochs.length !== channels.length) {
    throw invalid('channel, since and epoch must each be repeated once per channel, in the same order.');
  }
  if (channels.length > maxChannels) throw invalid(`At most ${maxChannels} channels per poll.`);
  const requests: SubscribeRequest[] = [];
  const seen = new Set<unknown>();
  for (let i = 0; i < channels.length; i++) {
    const channel = channels[i];
    const since = sinces[i];
    const epoch = epochs[i];
    if (typeof channel !== 'string' || typeof since !== 'string' || typeof epoch !== 'string') throw invalid('Bad parameters.');
    if (seen.has(channel)) throw invalid(`Channel ${JSON.stringify(channel)} is named twice.`);
    seen.add(channel);
    if (since === '') {
      requests.push({ channel, since: null, epoch: null });
      continue;
    }
    // Digits only, as for `limit` (protocol 7): Number() would also take 1e3, 0x10 or ' 5'.
    if (!DIGITS.test(since) || !Number.isSafeInteger(Number(since))) throw invalid('since must be empty or an integer >= 0.');
    if (epoch === '') throw invalid('A since needs the epoch it belongs to.');
    requests.push({ channel, since: Number(since), epoch });
  }
  const rawWait = query['wait'];
  let wait: number = REALTIME_LIMITS.maxPollWaitSec;
  if (rawWait !== undefined) {
    if (typeof rawWait !== 'string' || !DIGITS.test(rawWait) || Number(rawWait) > REALTIME_LIMITS.maxPollWaitSec) {
      throw invalid(`wait must be an integer from 0 to ${REALTIME_LIMITS.maxPollWaitSec} (seconds).`);
    }
    wait = Number(rawWait);
  }
  return { requests, wait };
}
