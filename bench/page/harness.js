// Runs inside Chromium: drives @sightline/core's track() and times it.
// The page is cross-origin isolated (COOP+COEP), so performance.now() has
// 5 us resolution instead of 100 us.
(() => {
  const S = window.Sightline;
  const offline = { isOnline: () => false, subscribe: () => () => {} };
  // Props reused across calls so the caller's own allocations are not timed.
  const PROPS = Array.from({ length: 16 }, (_, i) => ({ productId: 'sku-' + i, price: 19.99 + i, currency: 'EUR', quantity: 1 + (i % 3), category: 'Shoes' }));
  const NAMES = ['Product Viewed', 'Product Added', 'Checkout Started', 'Button Clicked'];
  const yieldTask = () => new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });

  let analytics;
  let tracked = 0;
  let written = 0;
  let writes = 0;
  let lastWriteAt = 0;
  let waiters = [];
  let storageMode = 'instrumented';
  let dbName;
  const longTasks = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push(e); }).observe({ type: 'longtask', buffered: false });

  function countStored() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(dbName);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('events')) { db.close(); return resolve(0); }
        // Records hold the [id, json] pairs of one drain; a plain string is one event (older layout).
        const req = db.transaction('events', 'readonly').objectStore('events').getAll();
        req.onsuccess = () => { db.close(); resolve(req.result.reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0)); };
        req.onerror = () => { db.close(); reject(req.error); };
      };
    });
  }

  function settle() {
    waiters = waiters.filter((w) => (written >= w.n ? (w.resolve(), false) : true));
  }

  /** Resolves once `n` events are durably written (their setMany transaction completed). */
  async function untilWritten(n, timeoutMs = 60000) {
    const deadline = performance.now() + timeoutMs;
    if (storageMode === 'instrumented') {
      if (written >= n) return;
      await Promise.race([
        new Promise((resolve) => { waiters.push({ n, resolve }); }),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${written}/${n} written`)), timeoutMs)),
      ]);
      return;
    }
    // Fallback: poll the store's key count.
    for (;;) {
      const c = await countStored();
      if (c >= n) { written = c; lastWriteAt = performance.now(); return; }
      if (performance.now() > deadline) throw new Error(`timeout: ${c}/${n} stored`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  window.bench = {
    info: () => ({ crossOriginIsolated, ua: navigator.userAgent, hasSdk: !!S && typeof S.createAnalytics === 'function' }),

    /**
     * JIT warm-up on a throwaway client with its own database: every depth then measures the same
     * optimised code, and depth 0 is not the page's first calls (those are cold, whatever the depth).
     */
    async warm(n) {
      const name = 'bench-warm-' + Math.random();
      // Bounds above n: the warm-up never drops (the full-queue row measures that).
      const w = S.createAnalytics({ writeKey: name, host: 'http://127.0.0.1:9', flushInterval: 3600000, maxQueueEvents: n + 1, maxQueueBytes: 1e9, env: { online: offline, sendBeacon: null } });
      for (let i = 0; i < n; i += 100) {
        for (let j = i; j < Math.min(n, i + 100); j++) w.track(NAMES[j & 3], PROPS[j & 15]);
        await yieldTask();
      }
      await w.flush();
      await w.shutdown();
      indexedDB.deleteDatabase('sightline-' + name);
    },

    /** A client on a new database; `maxQueueEvents` below the depth makes every call drop the oldest. */
    async setup(writeKey, maxQueueEvents = 1000000) {
      dbName = 'sightline-' + writeKey;
      let storage = 'auto';
      if (typeof S.unstable_idbStorage === 'function') {
        const base = S.unstable_idbStorage(dbName);
        storage = {
          entries: () => base.entries(),
          delMany: (k) => base.delMany(k),
          clear: () => base.clear(),
          async setMany(entries) {
            await base.setMany(entries);
            written += entries.length;
            writes++;
            lastWriteAt = performance.now();
            settle();
          },
        };
      } else storageMode = 'poll';
      const errors = [];
      analytics = S.createAnalytics({
        writeKey,
        // Never reached: the online manager keeps the SDK offline, so the queue only grows.
        host: 'http://127.0.0.1:9',
        flushInterval: 3600000,
        maxQueueEvents,
        maxQueueBytes: 1e9,
        storage,
        env: { online: offline, sendBeacon: null },
        onError: (e) => errors.push(String(e && e.message)),
      });
      window.__errors = errors;
      return { storageMode };
    },

    /** Queue `n` events (500 per task) and wait until they are all stored. */
    async fill(n) {
      for (let i = 0; i < n; i += 500) {
        for (let j = i; j < Math.min(n, i + 500); j++) analytics.track(NAMES[j & 3], PROPS[j & 15]);
        tracked += Math.min(500, n - i);
        await yieldTask();
      }
      await untilWritten(tracked);
      return { tracked, written, stored: await countStored() };
    },

    /** Synchronous cost: `rounds` batches of `size` calls, each in its own task after the queue went idle. */
    async sync(rounds, size) {
      const perCall = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        for (let j = 0; j < size; j++) analytics.track(NAMES[j & 3], PROPS[j & 15]);
        const t1 = performance.now();
        tracked += size;
        perCall.push(((t1 - t0) * 1000) / size);
        await untilWritten(tracked);
        await yieldTask();
      }
      return perCall;
    },

    /**
     * Total cost: `n` calls in tasks of `chunk`, timed from the first call until
     * the last event's IndexedDB write completed.
     */
    async burst(n, chunk) {
      longTasks.length = 0;
      const start = tracked;
      const writes0 = writes;
      const t0 = performance.now();
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        for (let j = 0; j < m; j++) analytics.track(NAMES[j & 3], PROPS[j & 15]);
        tracked += m;
        await yieldTask();
      }
      const tCalls = performance.now();
      await untilWritten(start + n);
      const t1 = lastWriteAt || performance.now();
      await new Promise((r) => setTimeout(r, 60));
      return {
        wallMs: t1 - t0,
        callsMs: tCalls - t0,
        // IndexedDB transactions (setMany calls) the SDK opened for these n events.
        transactions: writes - writes0,
        longTasks: longTasks.length,
        longestTaskMs: longTasks.reduce((m, e) => Math.max(m, e.duration), 0),
      };
    },

    /** The harness's own cost: the same loop and task yields calling a no-op instead of track(). */
    async baseline(n, chunk) {
      const noop = () => {};
      const t0 = performance.now();
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        for (let j = 0; j < m; j++) noop(NAMES[j & 3], PROPS[j & 15]);
        await yieldTask();
      }
      const t1 = performance.now();
      await new Promise((r) => setTimeout(r, 60));
      return { wallMs: t1 - t0 };
    },

    /**
     * IndexedDB's own price in this browser, without the SDK: `n` values the size
     * of a real queued event, written 100 per transaction either one key per
     * event (the earlier design) or one record holding 100 events (the SDK's, decision 0006).
     */
    async idbFloor(n, mode) {
      const sample = await new Promise((resolve) => {
        const open = indexedDB.open(dbName);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('events', 'readonly').objectStore('events').openCursor();
          req.onsuccess = () => { db.close(); const v = req.result?.value; resolve(Array.isArray(v) ? String(v[0]?.[1]) : v ? String(v) : 'x'.repeat(650)); };
        };
      });
      const name = 'bench-idb-floor-' + mode + '-' + Math.random();
      const db = await new Promise((resolve, reject) => {
        const o = indexedDB.open(name, 1);
        o.onupgradeneeded = () => o.result.createObjectStore('events');
        o.onsuccess = () => resolve(o.result);
        o.onerror = () => reject(o.error);
      });
      const t0 = performance.now();
      for (let i = 0; i < n; i += 100) {
        await new Promise((resolve, reject) => {
          const tx = db.transaction('events', 'readwrite');
          const store = tx.objectStore('events');
          if (mode === 'per-event') for (let j = 0; j < 100; j++) store.put(sample, `${i + j}`.padStart(8, '0') + '-' + j);
          else store.put(Array(100).fill(sample), `${i}`.padStart(8, '0'));
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
        });
      }
      const wallMs = performance.now() - t0;
      db.close();
      indexedDB.deleteDatabase(name);
      return { wallMs, bytes: sample.length };
    },

    async stored() { return countStored(); },
    errors: () => window.__errors.slice(0, 5),
  };
})();
