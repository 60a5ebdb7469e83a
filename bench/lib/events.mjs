// Realistic Segment-shaped events (300-600 bytes of JSON each) for the ingest
// benchmark. Deterministic (seeded) so runs are comparable.
import { randomBytes } from 'node:crypto';

export function rng(seed = 42) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n) => randomBytes(n).toString('hex');

let lastMs = 0;
let seq = 0;
/** UUID v7 (time-ordered), as Sightline's SDK sends. */
export function uuidv7(now = Date.now()) {
  if (now === lastMs) seq++;
  else { lastMs = now; seq = 0; }
  const ts = now.toString(16).padStart(12, '0');
  const r = hex(10);
  const a = (0x7000 | (seq & 0x0fff)).toString(16);
  const v = ((parseInt(r[0], 16) & 0x3) | 0x8).toString(16);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-${a}-${v}${r.slice(1, 4)}-${r.slice(4, 16)}`;
}

const EVENTS = ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed', 'Signed Up', 'Button Clicked', 'AI Generation', 'Search Performed'];
const PATHS = ['/', '/pricing', '/docs/getting-started', '/products/42', '/cart', '/checkout', '/blog/why-analytics'];
const UAS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
];

/**
 * One event. `type` mix: mostly track, some page/identify, like a real app.
 */
export function makeEvent(r, i, t0) {
  const ts = new Date(t0 + i * 7).toISOString();
  const user = Math.floor(r() * 5000);
  const path = PATHS[Math.floor(r() * PATHS.length)];
  const context = {
    library: { name: '@sightline/core', version: '0.0.0' },
    page: { path, referrer: user % 4 === 0 ? 'https://www.google.com/' : '' },
    userAgent: UAS[user % UAS.length],
    locale: 'en-GB',
    timezone: 'Europe/London',
    sessionId: `s-${user}-${Math.floor(i / 40)}`,
  };
  const base = { messageId: uuidv7(), timestamp: ts, anonymousId: `anon-${user.toString(36)}-${hex(4)}` };
  if (user % 3 === 0) base.userId = `user_${user}`;
  const k = r();
  if (k < 0.8) {
    const event = EVENTS[Math.floor(r() * EVENTS.length)];
    return { type: 'track', event, ...base, properties: { productId: `sku-${Math.floor(r() * 900)}`, price: Math.round(r() * 20000) / 100, currency: 'EUR', quantity: 1 + Math.floor(r() * 3)}, context };
  }
  if (k < 0.95) return { type: 'page', name: 'Home', ...base, properties: { path, title: 'Example Shop' }, context };
  return { type: 'identify', ...base, userId: `user_${user}`, traits: { email: `u${user}@example.com`, plan: 'pro', createdAt: ts }, context };
}

/** `n` batches of `size` events, bodies pre-serialised as Buffers. */
export function makeBatches(n, size, seed = 42) {
  const r = rng(seed);
  const t0 = Date.now() - 3600_000;
  const batches = [];
  let bytes = 0;
  for (let b = 0; b < n; b++) {
    const events = [];
    for (let j = 0; j < size; j++) events.push(makeEvent(r, b * size + j, t0));
    const body = Buffer.from(JSON.stringify({ batch: events, sentAt: new Date().toISOString() }));
    bytes += body.length;
    batches.push({ events, body });
  }
  return { batches, avgEventBytes: Math.round(bytes / (n * size)) };
}
