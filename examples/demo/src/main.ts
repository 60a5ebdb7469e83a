import { createAnalytics } from '@sightline/core';

const host = import.meta.env.VITE_SIGHTLINE_HOST ?? 'http://127.0.0.1:4318';
const writeKey = import.meta.env.VITE_SIGHTLINE_WRITE_KEY ?? 'dev-write-key';
const readToken = import.meta.env.VITE_SIGHTLINE_READ_TOKEN ?? 'dev-read-token';

interface StoredEvent {
  messageId: string;
  type: string;
  event?: string | null;
  name?: string | null;
  properties?: Record<string, unknown> | null;
  receivedAt?: string;
  timestamp?: string;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from index.html`);
  return el as T;
};

let tracked = 0;
let delivered = 0;

const analytics = createAnalytics({
  writeKey,
  host,
  // Small batches and a short interval so a click shows up within a second or two.
  flushAt: 10,
  flushInterval: 1_000,
  debug: true,
  plugins: [
    {
      name: 'demo-counter',
      type: 'destination',
      process() {
        tracked++;
        render();
      },
    },
  ],
});

analytics.on('delivered', (d) => {
  delivered += d.count;
  render();
});
analytics.on('error', (error) => {
  $('error').textContent = error.message;
  $('error').className = 'bad';
});
analytics.page();

function render(): void {
  $('tracked').textContent = String(tracked);
  $('delivered').textContent = String(delivered);
  const online = navigator.onLine;
  $('online').textContent = online ? 'online' : 'offline: events wait in IndexedDB';
  $('online').className = online ? 'ok' : 'bad';
}
/**
 * Events waiting in the SDK's shared IndexedDB queue (database `sightline-<writeKey>`, store
 * `events`, as core documents it): grows while offline, survives reloads, drains once online.
 */
function countQueued(): Promise<number | undefined> {
  return new Promise((resolve) => {
    const open = indexedDB.open(`sightline-${writeKey}`);
    // Never create the database from here: that is the SDK's job (it adds the store on creation).
    open.onupgradeneeded = () => open.transaction?.abort();
    open.onerror = () => resolve(undefined);
    open.onsuccess = () => {
      const db = open.result;
      try {
        const request = db.transaction('events', 'readonly').objectStore('events').count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(undefined);
        request.transaction!.oncomplete = () => db.close();
      } catch {
        db.close();
        resolve(undefined);
      }
    };
  });
}

async function pollQueue(): Promise<void> {
  const queued = await countQueued();
  $('queued').textContent = queued === undefined ? 'n/a' : String(queued);
  setTimeout(() => void pollQueue(), 500);
}
void pollQueue();

window.addEventListener('online', render);
window.addEventListener('offline', render);
render();

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-event]')) {
  button.addEventListener('click', () => {
    const { event = 'Clicked', ...props } = button.dataset;
    analytics.track(event, { ...props, label: button.textContent });
  });
}

$<HTMLFormElement>('custom').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('custom-name');
  const name = input.value.trim();
  if (name) analytics.track(name, { source: 'custom field' });
  input.value = '';
});

$('burst').addEventListener('click', () => {
  for (let i = 0; i < 50; i++) analytics.track('Burst', { i });
});
$('flush').addEventListener('click', () => void analytics.flush());

function cell(text: string, code = false): HTMLTableCellElement {
  const td = document.createElement('td');
  // Event names and properties are untrusted: always text, never HTML.
  if (code) td.append(Object.assign(document.createElement('code'), { textContent: text }));
  else td.textContent = text;
  return td;
}

function renderArrived(events: StoredEvent[]): void {
  const body = $('arrived');
  $('arrived-count').textContent = `(latest ${events.length})`;
  if (events.length === 0) return;
  body.replaceChildren(
    ...events.map((e) => {
      const tr = document.createElement('tr');
      const when = e.receivedAt ?? e.timestamp;
      tr.append(
        cell(when ? new Date(when).toLocaleTimeString() : ''),
        cell(e.event ?? e.name ?? e.type),
        cell(JSON.stringify(e.properties ?? {}), true),
        cell(e.messageId, true)
      );
      return tr;
    })
  );
}

async function poll(): Promise<void> {
  try {
    const res = await fetch(`${host}/v1/events/recent?limit=25`, { headers: { authorization: `Bearer ${readToken}` } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { events } = (await res.json()) as { events: StoredEvent[] };
    renderArrived(events);
    $('collector').textContent = `${host} (up)`;
    $('collector').className = 'ok';
  } catch (error) {
    $('collector').textContent = `${host} (unreachable: ${error instanceof Error ? error.message : String(error)})`;
    $('collector').className = 'bad';
  } finally {
    setTimeout(() => void poll(), 1_000);
  }
}
void poll();
