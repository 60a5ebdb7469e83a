/** An event as `GET /v1/events/recent` returns it (the fields the tests read). */
export interface StoredEvent {
  messageId: string;
  type: string;
  event?: string | null;
  properties?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** `GET /v1/events/recent?limit=N` with the read token; newest first as the collector orders them. */
export async function fetchRecentEvents(collectorUrl: string, readToken: string, limit = 1000): Promise<StoredEvent[]> {
  const res = await fetch(`${collectorUrl}/v1/events/recent?limit=${limit}`, {
    headers: { authorization: `Bearer ${readToken}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`[sightline/testing] GET /v1/events/recent answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { events: StoredEvent[] };
  return body.events;
}

/** How the events stored for one run compare with the `{ run, i }` events tracked for it. */
export interface DeliveryReport {
  /** Events stored with `properties.run === run`. */
  stored: number;
  /** Indexes tracked but not stored. */
  missing: number[];
  /** Indexes stored more than once (under different messageIds: the SDK minted a new id on resend). */
  storedTwice: number[];
  /** messageIds that appear on more than one stored row (the database let a duplicate in). */
  duplicateMessageIds: string[];
}

/** Compares the stored events of `run` with indexes `0..count-1`. */
export function deliveryReport(events: readonly StoredEvent[], run: string, count: number): DeliveryReport {
  const seenIndex = new Map<number, number>();
  const seenId = new Map<string, number>();
  let stored = 0;
  for (const e of events) {
    if (e.properties?.run !== run) continue;
    stored++;
    const i = Number(e.properties.i);
    seenIndex.set(i, (seenIndex.get(i) ?? 0) + 1);
    seenId.set(e.messageId, (seenId.get(e.messageId) ?? 0) + 1);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!seenIndex.has(i)) missing.push(i);
  return {
    stored,
    missing,
    storedTwice: [...seenIndex].filter(([, n]) => n > 1).map(([i]) => i),
    duplicateMessageIds: [...seenId].filter(([, n]) => n > 1).map(([id]) => id),
  };
}

/** The report a test expects when every one of `count` events was stored exactly once. */
export function exactlyOnce(count: number): DeliveryReport {
  return { stored: count, missing: [], storedTwice: [], duplicateMessageIds: [] };
}

/**
 * Polls the collector until `count` events of `run` are stored (or the time is up),
 * then once more after `settleMs` so late duplicates show, and returns the report.
 */
export async function waitForDelivery(
  collectorUrl: string,
  readToken: string,
  run: string,
  count: number,
  { timeoutMs = 30_000, settleMs = 300, limit = 1000 }: { timeoutMs?: number; settleMs?: number; limit?: number } = {}
): Promise<DeliveryReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let report: DeliveryReport | undefined;
    try {
      report = deliveryReport(await fetchRecentEvents(collectorUrl, readToken, limit), run, count);
    } catch (error) {
      // The collector may be restarting; keep polling until the deadline.
      if (Date.now() > deadline) throw error;
    }
    if ((report !== undefined && report.stored >= count) || Date.now() > deadline) {
      if (report === undefined) throw new Error('[sightline/testing] collector never answered');
      await new Promise((r) => setTimeout(r, settleMs));
      return deliveryReport(await fetchRecentEvents(collectorUrl, readToken, limit), run, count);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The messageIds stored for `run`, to compare with the ones the page's SDK minted. */
export async function storedMessageIds(collectorUrl: string, readToken: string, run: string, limit = 1000): Promise<Set<string>> {
  const events = await fetchRecentEvents(collectorUrl, readToken, limit);
  return new Set(events.filter((e) => e.properties?.run === run).map((e) => e.messageId));
}
