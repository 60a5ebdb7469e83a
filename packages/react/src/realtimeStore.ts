import type { RealtimeClient, RealtimeEvent } from '@sightline/realtime';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createFrameBatcher, type Scheduler } from './frameBatcher';
import { applyEvents, dropChannel, initialSnapshot } from './realtimeReducer';
import type { RealtimeSnapshot } from './types';

/** A provider's store and the subscriptions that feed it. */
export interface RealtimeStore {
  store: StoreApi<RealtimeSnapshot>;
  /** Keep `channel` subscribed (counted per caller) until the returned release. */
  retain(channel: string): () => void;
  /** Feed the store from `client`: its state and every retained channel. Returns the detach. */
  attach(client: RealtimeClient): () => void;
}

/** One store per provider, so that two providers (two projects, tests) never share messages. */
export function createRealtimeStore(historySize = 100, schedule?: Scheduler): RealtimeStore {
  const store = createStore<RealtimeSnapshot>()(initialSnapshot);
  const refs = new Map<string, number>();
  const subscriptions = new Map<string, () => void>();
  let client: RealtimeClient | undefined;
  // One store update per frame however many messages came; a channel released meanwhile is skipped.
  const push = createFrameBatcher<RealtimeEvent>(
    (events) => store.setState((s) => applyEvents(s, events.filter((e) => refs.has(e.channel)), historySize)),
    schedule,
  );
  const open = (channel: string) => {
    if (client && !subscriptions.has(channel)) subscriptions.set(channel, client.subscribe(channel, push));
  };
  const close = (channel: string) => {
    subscriptions.get(channel)?.();
    subscriptions.delete(channel);
  };

  return {
    store,
    retain(channel) {
      refs.set(channel, (refs.get(channel) ?? 0) + 1);
      open(channel);
      let retained = true;
      return () => {
        if (!retained) return;
        retained = false;
        refs.set(channel, refs.get(channel)! - 1);
        // StrictMode releases and retains again at once: the subscription (and its data) lives through that.
        queueMicrotask(() => {
          if (refs.get(channel) !== 0) return;
          refs.delete(channel);
          close(channel);
          store.setState((s) => dropChannel(s, channel));
        });
      };
    },
    attach(c) {
      client = c;
      const set = () => store.setState({ connection: { state: c.state, reason: c.reason } });
      set();
      const off = c.on('state', set);
      refs.forEach((_, channel) => open(channel));
      return () => {
        off();
        subscriptions.forEach((_, channel) => close(channel));
        client = undefined;
      };
    },
  };
}
