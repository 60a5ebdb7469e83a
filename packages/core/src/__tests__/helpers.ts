// Shared fakes for unit tests: a scripted collector (`env.fetch`), online and page-exit managers.
import { createAnalytics, type AnalyticsOptions, type FetchLike, type OnlineManager, type PageExitManager, type Properties, type SightlineEvent } from '../index';

export interface FakeRequest {
  url: string;
  headers: Record<string, string>;
  body: { batch: SightlineEvent[]; sentAt: string; writeKey?: string };
  /** The body as sent. */
  raw: string;
  keepalive: boolean;
}

/** What the fake collector answers: a status (0 = network error) and optional headers. */
export type Answer = number | { status: number; headers?: Record<string, string> };

/**
 * A fake collector behind `env.fetch`. `answer` decides each response (default 200);
 * `stored` counts each messageId accepted with a 2xx, like the collector's dedupe table would.
 */
export function fakeCollector(answer: (req: FakeRequest, n: number) => Answer | Promise<Answer> = () => 200) {
  const requests: FakeRequest[] = [];
  const stored = new Map<string, number>();
  const accepted: FakeRequest[] = [];
  const fetch: FetchLike = async (url, init) => {
    const req: FakeRequest = { url, headers: init.headers, body: JSON.parse(init.body), raw: init.body, keepalive: !!init.keepalive };
    requests.push(req);
    const a = await answer(req, requests.length);
    const { status, headers = {} } = typeof a == 'number' ? { status: a } : a;
    if (status === 0) throw new TypeError('Failed to fetch');
    if (status >= 200 && status < 300) {
      accepted.push(req);
      for (const e of req.body.batch) stored.set(e.messageId, (stored.get(e.messageId) ?? 0) + 1);
    }
    return { status, headers: { get: (n: string) => headers[n.toLowerCase()] ?? null } };
  };
  return {
    fetch,
    requests,
    stored,
    /** Event names in the order the collector accepted them. */
    accepted,
    names: () => accepted.flatMap((r) => r.body.batch.map((e) => e.event ?? e.name)),
    sentIds: () => requests.flatMap((r) => r.body.batch.map((e) => e.messageId)),
  };
}

export function fakeOnline(initial = true) {
  let online = initial;
  const listeners = new Set<(on: boolean) => void>();
  const manager: OnlineManager = {
    isOnline: () => online,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    manager,
    set(on: boolean) {
      online = on;
      listeners.forEach((l) => l(on));
    },
  };
}

export function fakePageExit() {
  const listeners = new Set<() => void>();
  const manager: PageExitManager = {
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { manager, exit: () => listeners.forEach((l) => l()) };
}

let n = 0;
/** A unique write key, so each test gets its own IndexedDB database and lock. */
export const uniqueKey = (prefix = 'wk') => `${prefix}-${Date.now().toString(36)}-${n++}`;

/** A client on a fake collector with fast timers, memory storage unless asked, and recorded reports. */
export function setup<E extends object = Record<string, Properties>>(options: Partial<AnalyticsOptions> = {}, answer?: Parameters<typeof fakeCollector>[0]) {
  const collector = fakeCollector(answer);
  const online = fakeOnline();
  const pageExit = fakePageExit();
  const errors: Array<{ code: string; message: string; status?: number | undefined }> = [];
  const dropped: Array<{ reason: string; count: number }> = [];
  const delivered: string[] = [];
  const analytics = createAnalytics<E>({
    writeKey: uniqueKey(),
    host: 'https://collector.test',
    storage: 'memory',
    flushInterval: 10,
    retry: { baseDelay: 5, maxDelay: 20 },
    ...options,
    env: { fetch: collector.fetch, online: online.manager, pageExit: pageExit.manager, sendBeacon: null, ...options.env },
  });
  analytics.on('error', (e) => errors.push({ code: e.code, message: e.message, status: e.status }));
  analytics.on('dropped', (d) => dropped.push({ reason: d.reason, count: d.count }));
  analytics.on('delivered', (d) => delivered.push(...d.messageIds));
  return { analytics, collector, online, pageExit, errors, dropped, delivered };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
