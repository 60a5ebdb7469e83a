import { createBeacon } from './beacon';
import { createConsent } from './consent';
import { createContext, pageContext } from './context';
import { createDelivery } from './delivery';
import { createEmitter } from './emitter';
import { SightlineError, type Reporter } from './errors';
import { byteLength, toJSON } from './json';
import { createKeyValueStore } from './keyValueStore';
import { createLockManager } from './lockManager';
import { createLogger } from './logger';
import { createOnlineManager } from './onlineManager';
import type { AnalyticsOptions } from './options';
import { createPageExitManager } from './pageExitManager';
import { createPlugins } from './plugins';
import { createQueue } from './queue';
import { createSession } from './session';
import { idbStorage, memoryStorage, type QueueStorage } from './storage';
import type { FetchLike } from './transport';
import type { Analytics, AnalyticsEventMap, CallOptions, EventContext, EventType, Properties, SightlineEvent } from './types';
import { uuidv7 } from './uuid';

/** Segment's per-event limit; the collector rejects bigger events. */
export const MAX_EVENT_BYTES = 32 * 1024;

const AID = 'sightline.aid';
const UID = 'sightline.uid';

/**
 * Create an analytics client. Calls are synchronous and never throw; events are persisted
 * (IndexedDB where available), batched and delivered at least once (the collector dedupes
 * by `messageId`). Pass an event map to type event names and properties.
 *
 * @example
 * const analytics = createAnalytics<{ 'Signed Up': { plan: 'free' | 'pro' } }>({ writeKey: 'wk', host: 'https://collect.example.com' });
 * analytics.track('Signed Up', { plan: 'pro' });
 */
export function createAnalytics<E extends object = Record<string, Properties>>(options: AnalyticsOptions): Analytics<E> {
  // The one throw: a missing write key is a programmer error, found on the first run.
  if (!options?.writeKey || typeof options.writeKey != 'string') throw new TypeError('[sightline] createAnalytics() needs a writeKey');
  const { writeKey, env = {}, privacy = {} } = options;
  const url = (options.host ?? '').replace(/\/+$/, '') + '/v1/batch';
  const now = env.now ?? Date.now;
  const log = createLogger(options.debug);
  const kv = env.kv ?? createKeyValueStore();
  const { rules } = privacy;
  const emitter = createEmitter<AnalyticsEventMap>(log);
  // Debug: every drop in the console (deliveries are logged with the collector's answer).
  emitter.on('dropped', (d) => log('dropped', d));

  const report: Reporter = (code, message, cause, extra) => {
    const err = Object.assign(new SightlineError(code, message, cause), extra);
    log(err);
    try {
      options.onError?.(err);
    } catch {}
    emitter.emit('error', err);
  };

  // Dev-only: inline so production bundles drop the check and its message. Without a bundler
  // `process` may not exist: the try (folded away with the check) makes that "production".
  try {
    if (process.env.NODE_ENV !== 'production') {
      if (!options.host && typeof location == 'undefined') console.warn('[sightline] No `host` and no page origin: pass `host` to createAnalytics().');
      if (rules && typeof rules != 'function') console.warn('[sightline] privacy.rules must come from privacyRules([...]): events are dropped until then.');
    }
  } catch {}

  let storage: QueueStorage;
  const s = options.storage ?? 'auto';
  if (typeof s == 'object') storage = s;
  else if (s == 'auto' && typeof indexedDB != 'undefined') storage = idbStorage('sightline-' + writeKey);
  else {
    storage = memoryStorage();
    if (s == 'auto') report('storage', 'IndexedDB unavailable: queue in memory');
  }

  const queue = createQueue(storage, options.maxQueueEvents ?? 10_000, options.maxQueueBytes ?? 5_000_000, report, emitter.emit);
  // Bound: calling an unbound `window.fetch` throws "Illegal invocation".
  const fetch = env.fetch ?? (globalThis.fetch?.bind(globalThis) as unknown as FetchLike | undefined);
  const online = env.online ?? createOnlineManager();
  const delivery = createDelivery(options, queue, url, fetch, online, env.locks ?? createLockManager(), now, env.random ?? Math.random, emitter.emit, report, log);
  const beacon = createBeacon(queue, url, writeKey, fetch, env.sendBeacon);
  const consent = createConsent(kv, options.consent, !!privacy.honorGlobalPrivacyControl);
  const session = createSession(kv, now);
  // Plugins may change the events they get: then each event has a context of its own.
  const buildContext = createContext(!options.plugins?.length);
  const plugins = createPlugins(options.plugins ?? [], (p, err) => report('plugin', `Plugin ${p.name} failed`, err));

  let anonymousId = kv.get(AID) || '';
  const newAnonymousId = () => kv.set(AID, (anonymousId = uuidv7(now())));
  if (!anonymousId) newAnonymousId();
  let userId = kv.get(UID) || undefined;
  let closed = false;
  // Calls not built into events yet: [time, fields read at the call, sessionId, page].
  let pending: Array<[number, object, string, EventContext['page']]> = [];
  let draining: Promise<void> | undefined;
  let lastT = NaN;
  let iso = '';

  const dropInvalid = (what: string, err: unknown) => report('invalid_event', `Dropped ${what}: ${(err as Error)?.message}`, err);

  // Without plugins every event of a session and page view shares one context object (`buildContext`):
  // its JSON is made once and spliced in, which halves serialisation (the largest deferred cost).
  let ctx: unknown, cj = '', cx = 0;
  const store = (e: SightlineEvent | null) => {
    if (!e) return;
    const c = e.context;
    if (c !== ctx) (cj = toJSON(c) ?? ''), (ctx = c), (cx = byteLength(cj) - cj.length);
    // Left out of this serialisation only (a throw drops the event: it is never seen again).
    e.context = undefined as never;
    const h = toJSON(e);
    e.context = c;
    const json = cj && h.length > 2 ? `${h.slice(0, -1)},"context":${cj}}` : h;
    const size = byteLength(h) + json.length - h.length + cx;
    if (size > MAX_EVENT_BYTES) throw new RangeError(`${size} bytes serialised, over 32 KB`);
    // Opted out (or shut down) while the event was in the pipeline.
    if (closed || !consent.allows()) return;
    plugins.deliver(e);
    queue.add({ id: e.messageId, json, size });
  };
  const drain = async () => {
    await plugins.load();
    // Take the whole list (shift() would copy it per event: quadratic in a burst of calls); calls
    // made meanwhile (plugins and hashing await) land in the next list.
    for (let calls; (calls = pending).length; ) {
      pending = [];
      for (const [t, fields, sessionId, page] of calls) {
        // `new Date(t).toISOString()` costs about 1 µs in V8: made once per millisecond (a burst of calls shares it).
        if (t !== lastT) (iso = new Date(t).toISOString()), (lastT = t);
        // A timestamp the call gave is in `fields` and replaces this one (in the same place).
        const e = { messageId: uuidv7(t), timestamp: iso, ...fields, context: buildContext(sessionId, page) } as SightlineEvent;
        // Plugins, privacy, serialisation, size check, storage. Without plugins or rules no promise
        // per event (a fifth of the deferred cost in a profile).
        try {
          const p = plugins.run(e);
          // Not a function (a plain array from JavaScript): throws, so the event is dropped and reported, never sent unmasked.
          if (rules || p instanceof Promise) await Promise.resolve(p).then((x) => (x && rules ? rules(x, (err, rule) => report('privacy', `Cannot hash ${rule.path}: removed`, err)) : x)).then(store);
          else store(p);
        } catch (err) {
          dropInvalid(`${e.type} ${e.event ?? e.name ?? ''}`, err);
        }
      }
    }
    draining = undefined;
    // One IndexedDB transaction for everything this drain queued.
    void queue.commit();
    delivery.queued();
  };

  const enqueue = (type: EventType, fields: Partial<SightlineEvent>, props: unknown, opts?: CallOptions, key: 'properties' | 'traits' = 'properties'): void => {
    try {
      // Opted out, shut down or no consent for this category: dropped on purpose, not an error.
      if (closed || !consent.allows(opts?.category)) return log('dropped', type, opts);
      if (props != null && (typeof props != 'object' || Array.isArray(props))) throw new TypeError('properties must be an object');
      // Read at the call only what can change before the drain: time, ids, session, page. The drain
      // builds messageId, ISO timestamp and context (about 3 µs of the call in V8, measured).
      // A shallow copy of props, so changes the host makes after the call do not leak into the event;
      // undefined fields vanish in JSON.
      // A time given by the caller is the event's timestamp only: the messageId keeps the call's, so
      // ids stay in call order. An invalid one throws here (RangeError) and drops this call alone;
      // one outside years 0001-9999 the collector refuses, reported as dropped on delivery.
      const f = { type, anonymousId, userId, ...fields, [key]: props ? { ...props } : undefined } as { timestamp?: string };
      if (opts?.timestamp != null) f.timestamp = new Date(+opts.timestamp).toISOString();
      pending.push([now(), f, session.id(true), pageContext()]);
      draining ??= Promise.resolve().then(drain);
    } catch (err) {
      dropInvalid(type, err);
    }
  };

  // Truthy when `name` is a non-empty string; else reported.
  const needName = (method: string, name: unknown) => (typeof name == 'string' && name.trim()) || report('invalid_event', method + '() needs a non-empty string');

  const unsubscribe = [online.subscribe((on) => on && void delivery.flush(true)), (env.pageExit ?? createPageExitManager()).subscribe(beacon)];
  // Send what earlier page loads (or other tabs) left in storage, within one flush interval.
  delivery.queued();

  const flush = async () => {
    try {
      while (draining) await draining;
      await queue.commit();
      await delivery.flush(true);
    } catch (err) {
      log(err);
    }
  };

  const analytics: Analytics<Record<string, Properties>> = {
    track: (event, properties, opts) => needName('track', event) && enqueue('track', { event }, properties, opts),
    page: (name, properties, opts) => enqueue('page', name ? { name } : {}, { ...pageContext(), ...properties }, opts),
    screen: (name, properties, opts) => needName('screen', name) && enqueue('screen', { name }, properties, opts),
    identify(id, traits, opts) {
      if (!needName('identify', id)) return;
      kv.set(UID, (userId = id));
      enqueue('identify', {}, traits, opts, 'traits');
    },
    group: (groupId, traits, opts) => needName('group', groupId) && enqueue('group', { groupId }, traits, opts, 'traits'),
    alias: (id, previousId, opts) => needName('alias', id) && enqueue('alias', { userId: id, previousId: previousId ?? userId ?? anonymousId }, null, opts),
    reset() {
      kv.remove(UID);
      userId = undefined;
      newAnonymousId();
      session.reset();
    },
    flush,
    optOut() {
      consent.optOut();
      pending = [];
      void queue.clear();
    },
    optIn: consent.optIn,
    setConsent: consent.set,
    trackAIGeneration: (p, opts) => analytics.track('AI Generation', p, opts),
    trackAIFeedback(p, opts) {
      // Schema checks of reserved events are dev-only (the collector validates too); inline so production bundles drop them.
      try {
        if (process.env.NODE_ENV !== 'production' && !(p?.score >= -1 && p.score <= 5)) return report('invalid_event', 'AI Feedback score must be -1..1 or 1..5');
      } catch {}
      analytics.track('AI Feedback', p, opts);
    },
    recordMetric(name, value, o = {}) {
      try {
        if (process.env.NODE_ENV !== 'production' && !isFinite(value)) return report('invalid_event', 'recordMetric() needs a finite number');
      } catch {}
      analytics.track('Metric Recorded', { name, value, type: o.type ?? 'gauge', category: o.category ?? 'business', ...(o.labels && { labels: o.labels }) });
    },
    on: emitter.on,
    async shutdown() {
      if (closed) return;
      await flush();
      closed = true;
      delivery.stop();
      unsubscribe.forEach((u) => u());
      emitter.clear();
    },
    get anonymousId() {
      return anonymousId;
    },
    get sessionId() {
      return session.id(false);
    },
    get userId() {
      return userId;
    },
  };
  return analytics as unknown as Analytics<E>;
}
