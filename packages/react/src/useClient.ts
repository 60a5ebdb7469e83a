import { useEffect, useRef } from 'react';

interface Held<C> {
  client: C;
  /** Created here from `config`: disposed here too. */
  owned: boolean;
  detach: () => void;
}

/**
 * Attaches the `client` prop, or else one created from `config` after mount (never during a server
 * render), and releases it on unmount, disposing only what it created. StrictMode unmounts and mounts
 * again at once: the release waits for a microtask, so the remount keeps the very same client and
 * exactly one is ever created. `config` is read once, like a QueryClient's options.
 */
export function useClient<C, O>(
  client: C | null | undefined,
  config: O | undefined,
  create: (config: O) => C,
  dispose: (client: C) => void,
  attach: (client: C) => () => void,
): void {
  const ref = useRef<{ held?: Held<C> | undefined; leaving?: boolean }>({});
  const own = !client && !!config;
  useEffect(() => {
    const r = ref.current;
    const release = () => {
      const h = r.held;
      r.held = undefined;
      h?.detach();
      if (h?.owned) dispose(h.client);
    };
    r.leaving = false;
    if (!(client ? r.held?.client === client : own && r.held?.owned)) release();
    if (!r.held && (client || own)) {
      try {
        const c = client || create(config!);
        r.held = { client: c, owned: !client, detach: attach(c) };
      } catch (error) {
        // Misconfiguration (no writeKey, no WebSocket in Node): said in development, never thrown into the app.
        if (typeof process != 'undefined' && process.env.NODE_ENV !== 'production') console.error('[sightline]', error);
      }
    }
    return () => {
      r.leaving = true;
      queueMicrotask(() => r.leaving && release());
    };
  }, [client, own]);
}
