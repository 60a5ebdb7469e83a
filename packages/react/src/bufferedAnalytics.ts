import type { Analytics, Properties } from '@sightline/core';

// The event calls first: the first six take their options third, the two AI helpers second (see
// optionsAt below). The others take none.
const METHODS = [
  'track',
  'page',
  'screen',
  'identify',
  'group',
  'alias',
  'trackAIGeneration',
  'trackAIFeedback',
  'reset',
  'flush',
  'optOut',
  'optIn',
  'setConsent',
  'recordMetric',
] as const;

type Method = (typeof METHODS)[number];
type Call = [method: Method, args: unknown[], done?: (result: unknown) => void];

/** What `useAnalytics()` returns: the client's calls, typed by your event map, stable for the provider's life. */
export type AnalyticsActions<E extends object = Record<string, Properties>> = Pick<Analytics<E>, Method>;

/** Calls kept while there is no client yet; beyond it the oldest are dropped. */
export const MAX_BUFFERED_CALLS = 1000;

export interface BufferedAnalytics {
  actions: AnalyticsActions;
  /** Replay the buffered calls on `client`, in order, then pass every call straight to it. Returns the detach. */
  attach(client: Analytics): () => void;
}

/**
 * Stable functions that buffer calls until a client is attached: the provider creates its client
 * after mount, children's effects run before their parent's, and apps load the SDK lazily. Calls
 * keep their order and the time they were made (`options.timestamp`); `flush()` resolves once the
 * client has flushed. `limit: 0` drops instead.
 */
export function createBufferedAnalytics(limit = MAX_BUFFERED_CALLS): BufferedAnalytics {
  let client: Analytics | undefined;
  let calls: Call[] = [];
  const apply = (c: Analytics, [method, args, done]: Call) => {
    const result = (c[method] as (...a: unknown[]) => unknown).apply(c, args);
    done?.(result);
    return result;
  };
  const actions = {} as Record<Method, (...args: unknown[]) => unknown>;
  METHODS.forEach((method, i) => {
    // Where the call takes its options (0: none). A buffered call is stamped there with the time it
    // was made, so that one replayed later (consent given, SDK loaded) keeps it.
    const optionsAt = i < 6 ? 2 : i < 8 ? 1 : 0;
    actions[method] = (...args) => {
      if (client) return apply(client, [method, args]);
      // A server render never gets a client (effects do not run there): keep nothing, send nothing.
      if (!limit || typeof window == 'undefined') return method == 'flush' ? Promise.resolve() : undefined;
      if (calls.length >= limit) calls.shift()![2]?.(undefined);
      // The caller's own timestamp wins; its other options stay as they are (inherited ones included).
      const options = args[optionsAt] as { timestamp?: unknown } | undefined;
      if (optionsAt && options?.timestamp == null)
        args[optionsAt] = Object.assign(Object.create(typeof options == 'object' ? options : null), { timestamp: Date.now() });
      if (method != 'flush') return void calls.push([method, args]);
      return new Promise((resolve) => calls.push([method, args, resolve]));
    };
  });
  return {
    actions: actions as unknown as AnalyticsActions,
    attach(c) {
      client = c;
      const queued = calls;
      calls = [];
      queued.forEach((call) => apply(c, call));
      return () => {
        if (client === c) client = undefined;
      };
    },
  };
}
