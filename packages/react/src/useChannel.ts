import { useMemo } from 'react';
import { EMPTY_CHANNEL } from './realtimeReducer';
import type { ChannelSnapshot } from './types';
import { memoize, useRealtime } from './useRealtime';

export interface UseChannelOptions<T, S> {
  /**
   * Picks what the component uses; it re-renders only when that changes. Runs again only when the
   * channel changed, so it may return new arrays and objects.
   * @default the whole ChannelSnapshot
   */
  select?: ((channel: ChannelSnapshot<T>) => S) | undefined;
}

/**
 * Live messages of `channel` (`events`, `alerts`, `metrics:<name>`, ...) from the nearest
 * `RealtimeProvider`, subscribed while the component is mounted and shared with every other reader.
 * Messages are applied once per animation frame; components reading other channels never re-render.
 *
 * @example
 * const last = useChannel<StoredEvent, StoredEvent | undefined>('events', { select: (c) => c.messages.at(-1)?.data });
 */
export function useChannel<T = unknown, S = ChannelSnapshot<T>>(channel: string, options: UseChannelOptions<T, S> = {}): S {
  const { select } = options;
  const selector = useMemo(() => {
    const pick = memoize((c: ChannelSnapshot<T>) => (select ? select(c) : c) as S);
    return (s: { channels: Readonly<Record<string, ChannelSnapshot>> }) => pick((s.channels[channel] ?? EMPTY_CHANNEL) as ChannelSnapshot<T>);
  }, [channel, select]);
  return useRealtime([channel], selector);
}
