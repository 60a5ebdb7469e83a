import type { RealtimeEvent, RealtimeMessage } from '@sightline/realtime';
import type { ChannelSnapshot, MetricUpdate, RealtimeSnapshot } from './types';

/** A channel nothing came on yet. */
export const EMPTY_CHANNEL: ChannelSnapshot = { messages: [], resets: 0, error: undefined };

export const METRICS = 'metrics:';

/** The store before any client. */
export const initialSnapshot = (): RealtimeSnapshot => ({ connection: { state: 'connecting', reason: 'start' }, channels: {}, metrics: {} });

/**
 * Applies a burst of events in one pass. Only the channels and metrics they touch get new objects,
 * so every selector of the others returns what it returned before: nothing else re-renders.
 */
export function applyEvents(state: RealtimeSnapshot, events: readonly RealtimeEvent[], historySize: number): RealtimeSnapshot {
  if (!events.length) return state;
  const channels = { ...state.channels };
  const metrics = { ...state.metrics };
  // Each channel's list is copied once per burst, not once per message.
  const added = new Map<string, RealtimeMessage[]>();
  for (const e of events) {
    const name = e.channel;
    const prev = channels[name] ?? EMPTY_CHANNEL;
    if (e.type == 'message') {
      const list = added.get(name);
      if (list) list.push(e);
      else added.set(name, [e]);
      const u = e.data as MetricUpdate | null;
      if (e.kind == 'metric_update' && name.startsWith(METRICS) && typeof u?.bucket == 'string') {
        const metric = name.slice(METRICS.length);
        const current = metrics[metric]?.[u.interval];
        // Protocol 9.6: a later update of the same bucket replaces it; one of an older bucket came late and loses.
        if (!current || Date.parse(current.bucket) <= Date.parse(u.bucket)) metrics[metric] = { ...metrics[metric], [u.interval]: u };
      }
    } else channels[name] = e.type == 'reset' ? { ...prev, resets: prev.resets + 1 } : { ...prev, error: e };
  }
  added.forEach((list, name) => {
    const prev = channels[name] ?? EMPTY_CHANNEL;
    channels[name] = { ...prev, messages: prev.messages.concat(list).slice(-historySize) };
  });
  return { ...state, channels, metrics };
}

/** The store without `channel` (and its metric), once nothing reads it. */
export function dropChannel(state: RealtimeSnapshot, channel: string): RealtimeSnapshot {
  const channels = { ...state.channels };
  const metrics = { ...state.metrics };
  delete channels[channel];
  if (channel.startsWith(METRICS)) delete metrics[channel.slice(METRICS.length)];
  return { ...state, channels, metrics };
}
