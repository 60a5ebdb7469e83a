import type { Properties, TrackArgs } from '@sightline/core';
import { useEffect, useRef } from 'react';
import { useAnalytics } from './useAnalytics';

/**
 * Tracks `event` once when the component mounts (not again under StrictMode, nor on re-renders),
 * with the properties of that first render.
 *
 * @example
 * useTrackOnMount('Viewed Pricing', { plan: 'pro' });
 */
export function useTrackOnMount<E extends object = Record<string, Properties>, K extends keyof E & string = keyof E & string>(
  event: K,
  ...args: TrackArgs<E[K]>
): void {
  const { track } = useAnalytics<E>();
  const done = useRef(false);
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    track(event, ...args);
  }, [track]);
}
