import { useContext, useEffect, useSyncExternalStore } from 'react';
import { RealtimeContext } from './context';
import { createRealtimeStore, type RealtimeStore } from './realtimeStore';
import type { RealtimeSnapshot } from './types';

let detached: RealtimeStore | undefined;

/**
 * Subscribes the component to `channels` while it is mounted and reads `select` of the nearest
 * `RealtimeProvider`'s zustand store: it re-renders only when what `select` returns changes
 * (`Object.is`), so `select` must return the same object for the same data (memoize it on its input).
 * A server render and hydration read the store's initial state.
 */
export function useRealtime<S>(channels: readonly string[], select: (snapshot: RealtimeSnapshot) => S): S {
  let rt = useContext(RealtimeContext);
  if (!rt) {
    if (typeof process != 'undefined' && process.env.NODE_ENV !== 'production') console.warn('[sightline] Realtime hooks need a <RealtimeProvider> above them.');
    rt = detached ??= createRealtimeStore();
  }
  const { retain, store } = rt;
  const key = channels.join('\n');
  useEffect(() => {
    // `channels` of the render whose `key` changed.
    const releases = channels.map(retain);
    return () => releases.forEach((release) => release());
  }, [retain, key]);
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getInitialState()),
  );
}

/** `fn`, answering the very same output while its input is the same object. */
export function memoize<I, O>(fn: (input: I) => O): (input: I) => O {
  let last: [I, O] | undefined;
  return (input) => (last && last[0] === input ? last[1] : (last = [input, fn(input)])[1]);
}
