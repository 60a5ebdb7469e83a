import type { BrowserContext, Page } from 'playwright-core';
import { buildCoreBundle } from './pageBundle';
import { serveStatic, type StaticServer } from './staticServer';

/**
 * State the test page keeps on `window.__sightline`:
 * the client, and what it reported through its public events.
 */
export interface SdkPageLog {
  /** messageIds a `destination` plugin saw, i.e. events that made it into the queue. */
  tracked: string[];
  /** messageIds of `delivered` events. */
  delivered: string[];
  dropped: unknown[];
  errors: string[];
  /**
   * `delivered` and `error` events in the page's clock (`performance.now()`), so timing
   * assertions (e.g. Retry-After) do not depend on how busy the test process is.
   */
  timeline: Array<{ kind: 'delivered' | 'error'; at: number; status?: number; retryIn?: number }>;
}

export interface SdkPageServer extends StaticServer {
  /** The page that boots the SDK with `config`; open it with `openSdkPage`. */
  pageUrl: string;
}

/**
 * Serves a page that loads the core bundle and, on every load, calls
 * `Sightline.createAnalytics(config)` and keeps the client on
 * `window.__sightline.analytics`. Every load boots the SDK, so after a
 * reload the new page resends whatever the old one left in IndexedDB.
 */
export async function serveSdkPage(config: Record<string, unknown>): Promise<SdkPageServer> {
  const bundle = await buildCoreBundle();
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sightline browser test</title>
<script src="/sightline.js"></script>
<script>
  const log = { tracked: [], delivered: [], dropped: [], errors: [], timeline: [] };
  const recorder = {
    name: 'test-recorder',
    type: 'destination',
    process(event) { log.tracked.push(event.messageId); },
  };
  const config = ${JSON.stringify(config).replace(/</g, '\\u003c')};
  const analytics = Sightline.createAnalytics({
    ...config,
    plugins: [...(config.plugins ?? []), recorder],
    onError(error) { log.errors.push(String(error && error.message || error)); },
  });
  analytics.on('delivered', (d) => {
    log.delivered.push(...d.messageIds);
    log.timeline.push({ kind: 'delivered', at: performance.now() });
  });
  analytics.on('error', (e) => log.timeline.push({ kind: 'error', at: performance.now(), status: e.status, retryIn: e.retryIn }));
  analytics.on('dropped', (d) => log.dropped.push(d));
  window.__sightline = {
    analytics,
    log,
    /** track n events named \`name\` with properties { run, i } for i in [from, from + n). */
    trackMany(name, run, n, from = 0) {
      for (let i = from; i < from + n; i++) analytics.track(name, { run, i });
    },
  };
</script></head>
<body><h1>Sightline browser test</h1></body></html>`;
  const server = await serveStatic({
    '/index.html': html,
    '/sightline.js': bundle,
    // Chromium asks for it; a 404 would show up as a console error.
    '/favicon.ico': { body: new Uint8Array(), type: 'image/x-icon' },
  });
  return { ...server, pageUrl: `${server.url}/index.html` };
}

const consoles = new WeakMap<Page, string[]>();

/**
 * What the page printed (`console.*`, uncaught errors), kept even after the page
 * closed: pass `debug: true` in the SDK config and put this in failure messages.
 */
export function pageConsole(page: Page): string[] {
  return consoles.get(page) ?? [];
}

/** Opens the SDK page in a new tab of `context` and waits until the client exists. */
export async function openSdkPage(context: BrowserContext, server: SdkPageServer): Promise<Page> {
  const page = await context.newPage();
  const lines: string[] = [];
  consoles.set(page, lines);
  page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
  await page.goto(server.pageUrl);
  await page.waitForFunction(() => 'analytics' in ((window as unknown as { __sightline?: object }).__sightline ?? {}));
  return page;
}

/** Calls `trackMany` in the page: events `{ run, i }` for i in [from, from + n). */
export async function trackMany(page: Page, name: string, run: string, n: number, from = 0): Promise<void> {
  await page.evaluate(
    ([name, run, n, from]) =>
      (
        window as unknown as { __sightline: { trackMany(a: string, b: string, c: number, d: number): void } }
      ).__sightline.trackMany(name, run, n, from),
    [name, run, n, from] as const
  );
}

/** Reads the page's `window.__sightline.log`. */
export async function sdkLog(page: Page): Promise<SdkPageLog> {
  return page.evaluate(() => (window as unknown as { __sightline: { log: SdkPageLog } }).__sightline.log);
}

/**
 * Resolves once the SDK's IndexedDB queue (`sightline-<writeKey>`, store `events`,
 * records as core's `idbStorage` documents them) holds at least `count` events.
 *
 * Chromium aborts IndexedDB transactions that have not committed when a page is
 * torn down, so an event tracked a few milliseconds before a tab closes may exist
 * only in memory (the beacon is then its only way out). Tests of "resent from
 * storage" wait for this first.
 */
export async function waitForPersisted(page: Page, writeKey: string, count: number, timeoutMs = 5_000): Promise<void> {
  // A string, not a function: transpilers may wrap named inner functions in helpers the page lacks.
  const countScript = `new Promise((resolve) => {
    const open = indexedDB.open(${JSON.stringify(`sightline-${writeKey}`)});
    // Never create the database here: core's idb-keyval store must be the one to create it.
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => resolve(0);
    open.onsuccess = () => {
      const db = open.result;
      try {
        // A record holds the [id, json] pairs of one drain; a plain string is one event.
        const req = db.transaction('events', 'readonly').objectStore('events').getAll();
        req.onsuccess = () => { db.close(); resolve(req.result.reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0)); };
        req.onerror = () => { db.close(); resolve(0); };
      } catch { db.close(); resolve(0); }
    };
  })`;
  const deadline = Date.now() + timeoutMs;
  let stored = 0;
  while ((stored = (await page.evaluate(countScript)) as number) < count) {
    if (Date.now() > deadline)
      throw new Error(`[sightline/testing] ${stored} of ${count} events in IndexedDB after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
