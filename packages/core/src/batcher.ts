/** One queued event: its `messageId`, its JSON and that JSON's UTF-8 size. */
export interface QueueItem {
  id: string;
  json: string;
  size: number;
}

/** The `messageId`s of `items`. */
export const ids = (items: readonly QueueItem[]): string[] => items.map((i) => i.id);

// `{"batch":[` + `],"sentAt":"2026-01-01T00:00:00.000Z","writeKey":...}`: room for the envelope.
const ENVELOPE = 256;

/**
 * The next batch from the head of the queue: at most `maxCount` events and `maxBytes` of body.
 * Always takes at least one item (a single event is bounded far below `maxBytes` by validation).
 * `skip` filters items out (e.g. already beaconed ones).
 */
export function takeBatch(items: readonly QueueItem[], maxCount: number, maxBytes: number, skip?: (item: QueueItem) => boolean): QueueItem[] {
  const out: QueueItem[] = [];
  let bytes = ENVELOPE;
  for (const item of items) {
    if (out.length >= maxCount) break;
    if (skip?.(item)) continue;
    // +1 for the comma between events.
    bytes += item.size + 1;
    if (out.length && bytes > maxBytes) break;
    out.push(item);
  }
  return out;
}

/** The `POST /v1/batch` body, built from stored JSON without re-serialising events. */
export function batchBody(items: readonly QueueItem[], writeKey?: string, sentAt: string = new Date().toISOString()): string {
  return `{"batch":[${items.map((i) => i.json).join(',')}],"sentAt":"${sentAt}"${writeKey ? `,"writeKey":${JSON.stringify(writeKey)}` : ''}}`;
}

/**
 * Drop from the head until the queue fits `maxCount` events and `maxBytes` bytes.
 * Mutates `items`; returns the dropped ones (oldest first).
 */
export function enforceBounds(items: QueueItem[], maxCount: number, maxBytes: number, bytes: number): QueueItem[] {
  let n = 0;
  while (n < items.length && (items.length - n > maxCount || bytes > maxBytes)) bytes -= items[n++]!.size;
  return items.splice(0, n);
}
