import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One ingest request as the proxy saw it. */
export interface ProxiedRequest {
  /** 0-based, in arrival order. */
  index: number;
  method: string;
  /** Path and query, e.g. `/v1/batch`. */
  path: string;
  contentType: string | undefined;
  /** `messageId`s in the body (`batch[]`, or a single event). */
  messageIds: string[];
  startedAt: number;
  endedAt?: number;
  /** The status the browser got; undefined when the connection was cut. */
  status?: number;
  /** Whether the collector saw it, or the proxy answered (or cut) it alone. */
  forwarded: boolean;
  /** The collector's `{ accepted, duplicates }` answer, when it gave one (even if the browser never got it). */
  answer?: { accepted: number; duplicates: number };
}

/** What to do with one request, decided by `FaultProxyOptions.fault`. */
export type Fault =
  /** Answer this instead of the collector, with CORS headers so the page can read it. */
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Forward it, but hold the request (`delayMs`) or the collector's answer (`delayResponseMs`). */
  | { delayMs?: number; delayResponseMs?: number }
  /** Cut the connection without an answer, as a crashed server or a dead network would. */
  | { drop: true }
  /**
   * Let the collector store it, then cut the connection before its answer
   * reaches the browser: the SDK must resend, and the collector must dedupe.
   */
  | { loseAnswer: true };

export interface FaultProxyOptions {
  /** The collector's URL. */
  target: string;
  /**
   * Called for every request except CORS preflights (those always go through,
   * so a fault is seen by the SDK and not hidden as a CORS failure).
   */
  fault?: (request: ProxiedRequest) => Fault | undefined;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point the SDK's `host` here. */
  url: string;
  /** Every non-preflight request so far. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * `messageId`s that were inside two requests open at the same time: the
   * SDK sent the same event twice in parallel (e.g. from two tabs).
   */
  readonly overlaps: readonly string[];
  /** How many times each messageId was sent (any outcome). */
  sendCounts(): Map<string, number>;
  /** Sums of the collector's `{ accepted, duplicates }` answers so far. */
  ingestTotals(): { accepted: number; duplicates: number };
  close(): Promise<void>;
}

function messageIdsOf(body: Buffer, headers: IncomingHttpHeaders): string[] {
  try {
    const raw = headers['content-encoding'] === 'gzip' || (body[0] === 0x1f && body[1] === 0x8b) ? gunzipSync(body) : body;
    const parsed = JSON.parse(raw.toString('utf8')) as { batch?: Array<{ messageId?: unknown }>; messageId?: unknown };
    const events = Array.isArray(parsed.batch) ? parsed.batch : [parsed];
    return events.map((e) => e.messageId).filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
  }
}

function countsOf(body: Buffer): { accepted: number; duplicates: number } | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { accepted?: unknown; duplicates?: unknown };
    return typeof parsed.accepted === 'number' && typeof parsed.duplicates === 'number'
      ? { accepted: parsed.accepted, duplicates: parsed.duplicates }
      : undefined;
  } catch {
    return undefined;
  }
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'Retry-After',
    vary: 'Origin',
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An HTTP proxy on 127.0.0.1 in front of the collector that records which
 * messageIds every request carried and can fail, delay or cut chosen requests.
 * It sees beacons and keepalive fetches that outlive their page, which
 * Playwright's `page.route` cannot.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const requests: ProxiedRequest[] = [];
  const overlaps: string[] = [];
  const inFlight = new Map<string, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const preflight = method === 'OPTIONS';
    let record: ProxiedRequest | undefined;
    if (!preflight) {
      record = {
        index: requests.length,
        method,
        path: req.url ?? '/',
        contentType: req.headers['content-type'],
        messageIds: method === 'POST' ? messageIdsOf(body, req.headers) : [],
        startedAt: Date.now(),
        forwarded: false,
      };
      requests.push(record);
      for (const id of record.messageIds) {
        const open = inFlight.get(id) ?? 0;
        if (open > 0) overlaps.push(id);
        inFlight.set(id, open + 1);
      }
    }
    const finish = (status: number | undefined): void => {
      if (record === undefined || record.endedAt !== undefined) return;
      record.endedAt = Date.now();
      if (status !== undefined) record.status = status;
      for (const id of record.messageIds) inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
    };
    res.once('close', () => finish(res.headersSent ? res.statusCode : undefined));

    const fault = record !== undefined ? options.fault?.(record) : undefined;
    if (fault !== undefined && 'drop' in fault) {
      req.socket.destroy();
      finish(undefined);
      return;
    }
    if (fault !== undefined && 'status' in fault) {
      res.writeHead(fault.status, { ...corsHeaders(req), 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ error: { code: 'injected', message: `fault proxy answered ${fault.status}` } }));
      return;
    }
    if (fault !== undefined && 'delayMs' in fault && fault.delayMs) await sleep(fault.delayMs);

    if (record !== undefined) record.forwarded = true;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        const answerChunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => answerChunks.push(c));
        answer.on('end', () => {
          const counts = countsOf(Buffer.concat(answerChunks));
          if (record !== undefined && counts !== undefined) record.answer = counts;
          void (async () => {
            if (fault !== undefined && 'delayResponseMs' in fault && fault.delayResponseMs) await sleep(fault.delayResponseMs);
            if (res.destroyed || (fault !== undefined && 'loseAnswer' in fault)) {
              finish(undefined);
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(answerChunks));
          })();
        });
      }
    );
    // Collector down: cut the browser's connection too, so the SDK sees a network error and not a 502.
    upstream.on('error', () => {
      finish(undefined);
      req.socket.destroy();
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    overlaps,
    sendCounts() {
      const counts = new Map<string, number>();
      for (const r of requests) for (const id of r.messageIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      return counts;
    },
    ingestTotals() {
      const totals = { accepted: 0, duplicates: 0 };
      for (const r of requests) {
        totals.accepted += r.answer?.accepted ?? 0;
        totals.duplicates += r.answer?.duplicates ?? 0;
      }
      return totals;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
