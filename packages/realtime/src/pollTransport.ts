import { retryAfterMs } from './backoff';
import type { Cursor } from './cursor';
import type { FetchLike, RealtimeOptions } from './types';

export interface PollDeps {
  url: string;
  o: RealtimeOptions;
  backoff(attempt: number): number;
  token(): Promise<[string, boolean]>;
  /** The channels to poll, with their cursors (protocol 9.4 sends them on every request). */
  subs: ReadonlyMap<string, { cursor: Cursor | undefined }>;
  /** One §9.2 frame; none comes once the transport stopped or restarted. */
  onFrame(frame: any): void;
  onOk(): void;
  /** `status` 0 is a network error or timeout; `forced`: the token came from a forced refresh. */
  onFail(status: number, forced: boolean, cause?: unknown): void;
}

export interface PollTransport {
  /** Start polling unless running; the first request has `wait=0` to catch up at once. */
  start(): void;
  stop(): void;
  /** A new channel: abort the poll in flight and ask again at once, instead of after `wait`. */
  restart(): void;
}

/**
 * HTTP long polling (protocol 9.4): back-to-back requests from the client's cursors. When long polls
 * keep being cut (a proxy that kills held requests), it falls back to short polls every `shortPollMs`.
 */
export function createPollTransport(d: PollDeps): PollTransport {
  const {
    // `fetch` unbound throws "Illegal invocation" in browsers.
    fetch = ((url, init) => globalThis.fetch(url, init)) as FetchLike,
    pollWaitSec = 25,
    shortPollMs = 30_000,
  } = d.o;
  let gen = 0;
  let running = false;
  let first = true;
  let failures = 0;
  let cuts = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abort: AbortController | undefined;

  const next = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(run, ms, gen);
  };

  async function run(g: number) {
    // Nothing to poll: idle until `restart()` (a new subscription).
    if (g !== gen || !d.subs.size) return;
    const short = cuts >= 2;
    const wait = first || short ? 0 : pollWaitSec;
    const q = new URLSearchParams();
    for (const [channel, { cursor: cur }] of d.subs) {
      q.append('channel', channel);
      q.append('since', cur ? '' + cur.seq : '');
      q.append('epoch', cur ? cur.epoch : '');
    }
    q.append('wait', '' + wait);
    const started = Date.now();
    let status = 0;
    let forced = false;
    let retryAfter: number | undefined;
    let cause: unknown;
    try {
      const [token, f] = await d.token();
      forced = f;
      if (g !== gen) return;
      const ctrl = (abort = new AbortController());
      // The backend answers within `wait`; a request held 10 s longer went through a dead connection.
      const t = setTimeout(() => ctrl.abort(), (wait + 10) * 1000);
      try {
        const res = await fetch(d.url + '?' + q, { headers: { Authorization: 'Bearer ' + token }, signal: ctrl.signal });
        status = res.status;
        retryAfter = retryAfterMs(res.headers.get('retry-after'));
        // Read every body: an unread one holds the connection (undici).
        const body = (await res.json().catch(() => undefined)) as { frames?: unknown; more?: unknown } | undefined;
        if (g !== gen) return;
        if (status === 200 && Array.isArray(body?.frames)) {
          failures = 0;
          first = false;
          if (wait) cuts = 0;
          d.onOk();
          for (const f of body.frames) if (g === gen) d.onFrame(f);
          if (g === gen) next(body.more ? 0 : short ? shortPollMs : 0);
          return;
        }
      } finally {
        clearTimeout(t);
      }
    } catch (e) {
      cause = e;
    }
    if (g !== gen) return;
    if (wait && Date.now() - started > 5000) cuts++;
    failures++;
    d.onFail(status, forced, cause);
    // A refused token is retried at once with a fresh one (a second refusal closes the client).
    if (g === gen) next(status == 401 ? 0 : (retryAfter ?? d.backoff(failures)));
  }

  const halt = () => {
    gen++;
    clearTimeout(timer);
    abort?.abort();
    abort = undefined;
  };

  return {
    start() {
      if (running) return;
      running = first = true;
      failures = cuts = 0;
      halt();
      run(gen);
    },
    stop() {
      running = false;
      halt();
    },
    restart() {
      if (!running) return;
      halt();
      run(gen);
    },
  };
}
