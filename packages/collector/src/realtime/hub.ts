import type { Database, Queryable } from '../database';
import { isChannelName } from './channels';
import { messageText, type MessageFrame } from './frames';
import type { ChannelListener, HubLogger, PendingPublish, RealtimeHub, Resolution, SubscribeRequest } from './hubTypes';
import type { Fanout } from './notifier';
import { REALTIME_LIMITS, type ResolvedRealtimeOptions } from './options';
import { checkResume, planResume, type ChannelHead } from './resolveCursor';
import { appendMessages, pruneHistory, readHeads, readMessages, takeLeases } from './store';

interface ChannelState {
  projectId: string;
  channel: string;
  listeners: Set<ChannelListener>;
  /** Listeners that hold the lease. */
  leaseHolders: number;
  known: number;
  /** The highest seq announced to the listeners (by a publish here, a notification or the safety check). */
  announced: number;
  epoch: string | null;
}

const keyOf = (projectId: string, channel: string) => `${projectId}\u0000${channel}`;

/**
 * Record that `channel` is live until `until`, and its family (`metrics:`, never a channel name
 * itself) until the latest of its channels, so `isLive(project, 'metrics:')` is one lookup.
 */
function setLive(live: Map<string, number>, projectId: string, channel: string, until: number): void {
  live.set(keyOf(projectId, channel), until);
  const colon = channel.indexOf(':');
  if (colon < 0) return;
  const family = keyOf(projectId, channel.slice(0, colon + 1));
  live.set(family, Math.max(live.get(family) ?? 0, until));
}

/** How often a PostgreSQL-backed hub re-reads which channels any process leases. */
export const LIVE_REFRESH_MS = 2000;

/**
 * How often a PostgreSQL-backed hub compares the served channels' `last_seq` with what its
 * listeners were told, so that a lost notification delays messages by at most this much.
 */
export const SAFETY_CHECK_MS = 5000;

/** Create the hub; `db` may be a lazy handle that opens later (nothing is queried before `start()` or a request). */
export function createRealtimeHub(db: Database, options: ResolvedRealtimeOptions, log: HubLogger): RealtimeHub {
  const channels = new Map<string, ChannelState>();
  // PGlite has one process, this one: a channel none of our listeners leased is not live,
  // which saves ingest a statement per request while nobody watches `events`.
  const localLive = new Map<string, number>();
  // PostgreSQL: the channels some process leased, as of the last refresh (other processes included).
  // PGlite: read once at start, so a restarted process honours its predecessor's leases (until they
  // lapse) instead of dropping what is stored before the subscribers come back.
  let liveAnywhere = new Map<string, number>();
  const isLiveKey = (key: string) => {
    const now = Date.now();
    return (localLive.get(key) ?? 0) > now || (liveAnywhere.get(key) ?? 0) > now;
  };
  const refreshLive = async () => {
    const { rows } = await db.query<{ project_id: string; channel: string; until: number | string }>(
      'SELECT project_id, channel, extract(epoch FROM live_until) * 1000 AS until FROM realtime_channels WHERE live_until > now()',
    );
    const live = new Map<string, number>();
    for (const row of rows) setLive(live, row.project_id, row.channel, Number(row.until));
    liveAnywhere = live;
  };
  let liveTimer: NodeJS.Timeout | undefined;
  const shutdownListeners = new Set<() => void>();
  const inFlight = new Set<Promise<unknown>>();
  let shuttingDown = false;
  let closed = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<number> | undefined;
  let safetyTimer: NodeJS.Timeout | undefined;
  let fanout: Fanout | undefined;
  let checking: Promise<void> | undefined;

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const done = () => inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** A lease answered with `head`: remember it, and reset live subscribers if the epoch changed under them. */
  function observeHead(projectId: string, channel: string, head: ChannelHead, leased: boolean): void {
    const key = keyOf(projectId, channel);
    // A second more than the database's lease, so this shortcut never skips a live channel.
    if (leased) setLive(localLive, projectId, channel, Date.now() + options.leaseTtlMs + 1000);
    const state = channels.get(key);
    if (!state) return;
    const previous = state.epoch;
    state.epoch = head.epoch;
    state.known = Math.max(state.known, head.lastSeq);
    if (previous !== null && previous !== head.epoch) {
      // A new epoch counts from its own start: notifications of it must not be compared with the old one.
      state.announced = head.lastSeq;
      for (const listener of [...state.listeners]) listener.reset(head);
    }
  }

  function announce(projectId: string, channel: string, lastSeq: number, frames: readonly MessageFrame[] | null): void {
    const state = channels.get(keyOf(projectId, channel));
    if (!state) return;
    state.known = Math.max(state.known, lastSeq);
    state.announced = Math.max(state.announced, lastSeq);
    for (const listener of [...state.listeners]) listener.notify(lastSeq, frames);
  }

  /**
   * Messages up to `lastSeq` were committed, maybe by another process: announce them (to be read
   * from the history) unless the listeners were told already. Our own NOTIFYs come back here and
   * stop at this check; listeners also drop seqs they already sent.
   */
  function changed(projectId: string, channel: string, lastSeq: number): void {
    const state = channels.get(keyOf(projectId, channel));
    if (!state || closed || lastSeq <= state.announced) return;
    announce(projectId, channel, lastSeq, null);
  }

  /** The safety check: compare every served channel's head with what its listeners were told. */
  function checkChannels(): Promise<void> {
    checking ??= track(
      (async () => {
        const projects: string[] = [];
        const names: string[] = [];
        for (const state of channels.values()) {
          projects.push(state.projectId);
          names.push(state.channel);
        }
        if (projects.length === 0) return;
        const { rows } = await db.query<{ project_id: string; channel: string; epoch: string; last_seq: unknown }>(
          `SELECT project_id, channel, epoch, last_seq FROM realtime_channels
            WHERE (project_id, channel) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
          [projects, names],
        );
        for (const row of rows) {
          const lastSeq = Number(row.last_seq);
          observeHead(row.project_id, row.channel, { epoch: row.epoch, lastSeq }, false);
          changed(row.project_id, row.channel, lastSeq);
        }
      })(),
    ).finally(() => {
      checking = undefined;
    });
    return checking;
  }

  async function publishIn(
    tx: Queryable,
    projectId: string,
    channel: string,
    kind: string,
    data: readonly unknown[],
  ): Promise<PendingPublish | null> {
    if (typeof projectId !== 'string' || projectId.length === 0) throw new TypeError('[sightline] publish: projectId must be a non-empty string.');
    if (!isChannelName(channel)) throw new TypeError(`[sightline] publish: ${JSON.stringify(channel)} is not a channel of protocol 9.1.`);
    if (typeof kind !== 'string' || kind.length === 0) throw new TypeError('[sightline] publish: kind must be a non-empty string.');
    if (!Array.isArray(data)) throw new TypeError('[sightline] publish: data must be an array, one item per message.');
    const texts = data.map((item: unknown) => {
      const text = JSON.stringify(item) as string | undefined;
      if (text === undefined) throw new TypeError('[sightline] publish: every data item must be JSON (not undefined or a function).');
      // The envelope adds the channel, kind and time: keep the whole frame under the protocol's 64 KB.
      if (Buffer.byteLength(text) + channel.length + kind.length + 128 > REALTIME_LIMITS.maxMessageBytes) {
        throw new RangeError('[sightline] publish: a message may not exceed 64 KB; publish a smaller summary.');
      }
      return text;
    });
    if (texts.length === 0 || closed) return null;
    if (db.kind === 'pglite' && !isLiveKey(keyOf(projectId, channel))) return null;
    const stored = await appendMessages(tx, projectId, channel, kind, texts);
    if (!stored) return null;
    const firstSeq = stored.lastSeq - texts.length + 1;
    return {
      result: { epoch: stored.epoch, firstSeq, lastSeq: stored.lastSeq },
      committed() {
        const frames = texts.map((text, i) => ({ seq: firstSeq + i, text: messageText(channel, firstSeq + i, kind, stored.at, text) }));
        announce(projectId, channel, stored.lastSeq, frames);
        // Only after the commit: another process told earlier would read a history without them.
        fanout?.touch(projectId, channel, stored.lastSeq);
      },
    };
  }

  async function publish(projectId: string, channel: string, kind: string, data: readonly unknown[]) {
    // appendMessages is one autocommit statement: committed once it resolves.
    const pending = await track(publishIn(db, projectId, channel, kind, data));
    pending?.committed();
    return pending?.result ?? null;
  }

  async function resolve(
    projectId: string,
    requests: readonly SubscribeRequest[],
    { lease, limit }: { lease: boolean; limit: number },
  ): Promise<Resolution[]> {
    if (closed) throw new Error('[sightline] The realtime hub is closed.');
    const names = requests.map((r) => r.channel);
    let heads = lease ? await takeLeases(db, projectId, names, options.leaseTtlMs) : await readHeads(db, projectId, names);
    // A channel without a row was never leased (or was cleaned up): lease it rather than guess.
    const missing = names.filter((name) => !heads.has(name));
    if (missing.length > 0) {
      const leased = await takeLeases(db, projectId, missing, options.leaseTtlMs);
      for (const [name, head] of leased) observeHead(projectId, name, head, true);
      heads = new Map([...heads, ...leased]);
    }
    for (const [name, head] of heads) observeHead(projectId, name, head, lease);
    let budget = limit;
    const out: Resolution[] = [];
    for (const request of requests) {
      const head = heads.get(request.channel);
      if (!head) throw new Error(`[sightline] realtime: no head for channel ${request.channel}.`);
      const cursor = request.since === null || request.epoch === null ? null : { since: request.since, epoch: request.epoch };
      const base = { channel: request.channel, epoch: head.epoch, lastSeq: head.lastSeq };
      const plan = planResume(cursor, head, options.historySize);
      if (plan === 'new' || plan === 'reset' || cursor === null) {
        out.push({ ...base, outcome: plan === 'reset' ? 'reset' : 'new', seq: head.lastSeq, messages: [], more: false });
        continue;
      }
      if (plan === 'current' || budget <= 0) {
        out.push({ ...base, outcome: 'resumed', seq: cursor.since, messages: [], more: plan === 'read' });
        continue;
      }
      const rows = await readMessages(db, projectId, request.channel, cursor.since, budget, options.historyMaxAgeMs);
      if (checkResume(cursor.since, rows[0]?.seq) === 'reset') {
        out.push({ ...base, outcome: 'reset', seq: head.lastSeq, messages: [], more: false });
        continue;
      }
      budget -= rows.length;
      const messages = rows.map((row) => ({ seq: row.seq, text: messageText(request.channel, row.seq, row.kind, row.at, row.data) }));
      out.push({ ...base, outcome: 'resumed', seq: cursor.since, messages, more: budget <= 0 });
    }
    return out;
  }

  async function renewLeases(): Promise<void> {
    const byProject = new Map<string, string[]>();
    for (const state of channels.values()) {
      if (state.leaseHolders === 0) continue;
      const list = byProject.get(state.projectId) ?? [];
      list.push(state.channel);
      byProject.set(state.projectId, list);
    }
    for (const [projectId, names] of byProject) {
      const heads = await takeLeases(db, projectId, names, options.leaseTtlMs);
      for (const [name, head] of heads) observeHead(projectId, name, head, true);
    }
    const now = Date.now();
    for (const [key, until] of localLive) if (until <= now) localLive.delete(key);
  }

  function prune(): Promise<number> {
    pruning ??= track(pruneHistory(db, options.historySize, options.historyMaxAgeMs)).finally(() => {
      pruning = undefined;
    });
    return pruning;
  }

  function every(ms: number, task: () => Promise<unknown>, what: string): NodeJS.Timeout {
    let running = false;
    const timer = setInterval(() => {
      if (running || closed) return;
      running = true;
      task()
        .catch((error: unknown) => log.warn({ err: error }, `realtime: ${what} failed`))
        .finally(() => (running = false));
    }, ms);
    // Housekeeping never keeps the process alive on its own.
    timer.unref();
    return timer;
  }

  return {
    options,
    publish,
    publishIn,
    async eventsStored(projectId, events) {
      if (events.length === 0) return;
      try {
        await publish(projectId, 'events', 'event', events);
      } catch (error) {
        log.warn({ err: error, projectId, events: events.length }, 'realtime: publishing stored events failed');
      }
    },
    resolve,
    watch(projectId, channel, listener) {
      const key = keyOf(projectId, channel);
      let state = channels.get(key);
      if (!state) {
        state = { projectId, channel, listeners: new Set(), leaseHolders: 0, known: 0, announced: 0, epoch: null };
        channels.set(key, state);
      }
      const s = state;
      s.listeners.add(listener);
      if (listener.holdsLease) s.leaseHolders++;
      return () => {
        if (!s.listeners.delete(listener)) return;
        if (listener.holdsLease) s.leaseHolders--;
        if (s.listeners.size === 0 && channels.get(key) === s) channels.delete(key);
      };
    },
    known: (projectId, channel) => channels.get(keyOf(projectId, channel))?.known ?? 0,
    get shuttingDown() {
      return shuttingDown;
    },
    onShutdown(fn) {
      shutdownListeners.add(fn);
      return () => void shutdownListeners.delete(fn);
    },
    isLive(projectId, channel) {
      return isLiveKey(keyOf(projectId, channel));
    },
    async start(connectFanout) {
      if (closed || renewTimer) return;
      renewTimer = every(options.leaseRenewMs, renewLeases, 'lease renewal');
      pruneTimer = every(options.pruneIntervalMs, prune, 'history prune');
      await refreshLive().catch((error: unknown) => log.warn({ err: error }, 'realtime: live channel refresh failed'));
      if (db.kind === 'postgres') {
        liveTimer = every(LIVE_REFRESH_MS, refreshLive, 'live channel refresh');
        safetyTimer = every(SAFETY_CHECK_MS, checkChannels, 'safety check');
        fanout = connectFanout?.({
          changed,
          resync: () => void checkChannels().catch((error: unknown) => log.warn({ err: error }, 'realtime: resync failed')),
        });
      }
    },
    shutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      for (const fn of [...shutdownListeners]) {
        try {
          fn();
        } catch (error) {
          log.warn({ err: error }, 'realtime: a shutdown listener threw');
        }
      }
      shutdownListeners.clear();
    },
    async close(graceMs) {
      shuttingDown = true;
      closed = true;
      clearInterval(renewTimer);
      clearInterval(pruneTimer);
      clearInterval(liveTimer);
      clearInterval(safetyTimer);
      // A database that stopped answering must not hold shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      // Last publishes' NOTIFYs go out, then the LISTEN connection closes (bounded).
      await fanout?.close();
    },
    prune,
  };
}
