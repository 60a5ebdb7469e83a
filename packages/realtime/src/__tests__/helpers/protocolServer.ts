import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A small backend that speaks protocol section 9 (realtime) faithfully, on 127.0.0.1, for the
 * client's tests while the collector's side is being built. Faults: refuse upgrades, blackhole the
 * open sockets, drop every connection, close sockets with a code, stop and restart on the same port.
 */
export interface ProtocolServerOptions {
  /** Read tokens accepted. @default ['read-token'] */
  tokens?: string[];
  /** Tokens answered 4403/403 (write keys). @default ['write-key'] */
  forbidden?: string[];
  /** History kept per channel. @default 1000 */
  historySize?: number;
  /** Messages per poll answer. @default 500 */
  maxPollMessages?: number;
}

interface Message {
  type: 'message';
  channel: string;
  seq: number;
  kind: string;
  at: string;
  data: unknown;
}
interface Channel {
  epoch: string;
  seq: number;
  history: Message[];
}
interface Conn {
  ws: WebSocket;
  authed: boolean;
  /** channel -> last seq sent on this socket */
  subs: Map<string, number>;
  blackholed: boolean;
  authTimer: NodeJS.Timeout;
}
interface Waiter {
  names: string[];
  wake(): void;
}

const CHANNEL = /^(events|alerts|insights|health|metrics:[^\x00-\x1f\x7f]{1,200})$/;
let epochs = 0;
const newEpoch = () => 'e' + (++epochs).toString(36) + Math.random().toString(36).slice(2, 8);

export async function startProtocolServer(options: ProtocolServerOptions = {}) {
  const tokens = new Set(options.tokens ?? ['read-token']);
  const forbidden = new Set(options.forbidden ?? ['write-key']);
  const historySize = options.historySize ?? 1000;
  const maxPoll = options.maxPollMessages ?? 500;
  const channels = new Map<string, Channel>();
  const conns = new Set<Conn>();
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();
  const pollRequests = new Set<ServerResponse>();
  const stats = { upgrades: 0, refusedUpgrades: 0, readySockets: 0, polls: 0, pollMessages: 0, socketMessages: 0, pings: 0 };
  let refuse = false;
  // Polls still to answer 429 (the backend's poll rate limit).
  let limited = 0;
  let hold = false;
  let port = 0;
  let server: Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });

  const channel = (name: string): Channel => {
    let c = channels.get(name);
    if (!c) channels.set(name, (c = { epoch: newEpoch(), seq: 0, history: [] }));
    return c;
  };

  /** Protocol 9.2: `subscribed` or `reset`, and the messages after the cursor. */
  function resolve(name: string, since: number | null, epoch: string | null) {
    const c = channel(name);
    if (since == null) return { head: { type: 'subscribed', channel: name, seq: c.seq, epoch: c.epoch }, messages: [] as Message[] };
    const oldest = c.history[0]?.seq ?? c.seq + 1;
    if (epoch !== c.epoch || since > c.seq || (since < c.seq && oldest > since + 1)) {
      return { head: { type: 'reset', channel: name, seq: c.seq, epoch: c.epoch, since }, messages: [] as Message[] };
    }
    return { head: { type: 'subscribed', channel: name, seq: since, epoch: c.epoch }, messages: c.history.filter((m) => m.seq > since) };
  }

  const send = (conn: Conn, frame: object) => {
    if (!conn.blackholed && conn.ws.readyState === 1) conn.ws.send(JSON.stringify(frame));
  };

  function onSocket(ws: WebSocket) {
    const conn: Conn = {
      ws,
      authed: false,
      subs: new Map(),
      blackholed: hold,
      authTimer: setTimeout(() => ws.close(4408), 5000),
    };
    conns.add(conn);
    ws.on('close', () => {
      clearTimeout(conn.authTimer);
      conns.delete(conn);
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (conn.blackholed) return;
      let f: any;
      try {
        f = JSON.parse(data.toString());
      } catch {
        return ws.close(4400);
      }
      if (!conn.authed) {
        if (f?.type !== 'auth') return ws.close(4400);
        clearTimeout(conn.authTimer);
        if (forbidden.has(f.token)) return ws.close(4403);
        if (!tokens.has(f.token)) return ws.close(4401);
        conn.authed = true;
        stats.readySockets++;
        return send(conn, { type: 'ready' });
      }
      switch (f?.type) {
        case 'subscribe': {
          if (typeof f.channel !== 'string' || !CHANNEL.test(f.channel)) {
            return send(conn, { type: 'error', channel: f.channel, code: 'invalid_channel', message: 'unknown channel' });
          }
          if (!conn.subs.has(f.channel) && conn.subs.size >= 100) {
            return send(conn, { type: 'error', channel: f.channel, code: 'too_many_subscriptions', message: 'at most 100' });
          }
          if ((f.since == null) !== (f.epoch == null)) return ws.close(4400);
          const { head, messages } = resolve(f.channel, f.since ?? null, f.epoch ?? null);
          send(conn, head);
          for (const m of messages) send(conn, m), stats.socketMessages++;
          conn.subs.set(f.channel, channel(f.channel).seq);
          return;
        }
        case 'unsubscribe':
          conn.subs.delete(f.channel);
          return;
        case 'ping':
          stats.pings++;
          return send(conn, { type: 'pong' });
        default:
          return ws.close(4400);
      }
    });
  }

  function parsePoll(url: URL) {
    const names = url.searchParams.getAll('channel');
    const sinces = url.searchParams.getAll('since');
    const epochList = url.searchParams.getAll('epoch');
    const waitRaw = url.searchParams.get('wait');
    const wait = waitRaw == null ? 25 : Number(waitRaw);
    if (names.length !== sinces.length || names.length !== epochList.length || names.length > 100) return;
    if (!Number.isInteger(wait) || wait < 0 || wait > 25) return;
    const subs: { name: string; since: number | null; epoch: string | null }[] = [];
    for (let i = 0; i < names.length; i++) {
      const s = sinces[i]!;
      const since = s === '' ? null : Number(s);
      if (since !== null && !(Number.isInteger(since) && since >= 0)) return;
      subs.push({ name: names[i]!, since, epoch: since === null ? null : epochList[i]! });
    }
    return { subs, wait };
  }

  /**
   * One poll answer (protocol 9.4), or undefined when it should be held. A cursor that resumes
   * with nothing new does not by itself make the backend answer (otherwise long polls never hold).
   */
  function pollFrames(subs: { name: string; since: number | null; epoch: string | null }[]) {
    const frames: object[] = [];
    let urgent = false;
    let budget = maxPoll;
    let more = false;
    for (const s of subs) {
      if (!CHANNEL.test(s.name)) {
        frames.push({ type: 'error', channel: s.name, code: 'invalid_channel', message: 'unknown channel' });
        urgent = true;
        continue;
      }
      const { head, messages } = resolve(s.name, s.since, s.epoch);
      if (head.type === 'reset' || s.since == null) {
        frames.push(head);
        urgent = true;
        continue;
      }
      if (!messages.length) continue;
      const take = messages.slice(0, Math.max(0, budget));
      if (take.length < messages.length) more = true;
      if (!take.length) continue;
      budget -= take.length;
      frames.push(head, ...take);
      stats.pollMessages += take.length;
      urgent = true;
    }
    return urgent ? { frames, more } : undefined;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = (status: number, body: object, headers: Record<string, string> = {}) => {
      pollRequests.delete(res);
      if (!res.writableEnded) res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const error = (status: number, code: string) => json(status, { error: { code, message: code, details: [] } });
    if (req.method !== 'GET' || url.pathname !== '/v1/realtime/poll') return error(404, 'not_found');
    stats.polls++;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (forbidden.has(auth)) return error(403, 'forbidden');
    if (!tokens.has(auth)) return error(401, 'unauthorized');
    if (limited > 0) {
      limited--;
      return json(429, { error: { code: 'rate_limited', message: 'slow down', details: null } }, { 'retry-after': '1' });
    }
    const q = parsePoll(url);
    if (!q) return error(400, 'invalid_query');
    pollRequests.add(res);
    const now = pollFrames(q.subs);
    if (now || q.wait === 0) return json(200, { frames: now?.frames ?? [], more: now?.more ?? false });
    const waiter: Waiter = {
      names: q.subs.map((s) => s.name),
      wake() {
        const a = pollFrames(q.subs);
        if (a) done(), json(200, a);
      },
    };
    const timer = setTimeout(() => (done(), json(200, { frames: [], more: false })), q.wait * 1000);
    const done = () => {
      clearTimeout(timer);
      waiters.delete(waiter);
    };
    waiters.add(waiter);
    req.on('close', done);
  }

  function listen(p: number) {
    server = createServer(onRequest);
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('upgrade', (req, socket, head) => {
      stats.upgrades++;
      if (refuse || new URL(req.url ?? '/', 'http://x').pathname !== '/v1/realtime') {
        stats.refusedUpgrades++;
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, onSocket);
    });
    return new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(p, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        ok();
      });
    });
  }

  /** Destroy every TCP connection: sockets and polls end without a close frame. */
  function dropConnections() {
    for (const c of conns) c.ws.terminate();
    for (const s of sockets) s.destroy();
  }

  await listen(0);

  return {
    get url() {
      return 'http://127.0.0.1:' + port;
    },
    stats,
    tokens,
    /** Connections with a `ready` socket that subscribe to `name`. */
    socketSubscribers: (name: string) => [...conns].filter((c) => c.authed && c.subs.has(name)).length,
    openSockets: () => conns.size,
    pendingPolls: () => waiters.size,
    /** Publish `n` messages to `name`; returns the last seq. */
    publish(name: string, n = 1, data: (seq: number) => unknown = (seq) => ({ n: seq })) {
      const c = channel(name);
      for (let i = 0; i < n; i++) {
        const m: Message = { type: 'message', channel: name, seq: ++c.seq, kind: 'event', at: new Date().toISOString(), data: data(c.seq) };
        c.history.push(m);
        if (c.history.length > historySize) c.history.shift();
        for (const conn of conns) {
          const sent = conn.subs.get(name);
          if (sent === undefined || !conn.authed) continue;
          // Contiguous per socket: a subscriber that is behind catches up from the history.
          for (const h of sent === m.seq - 1 ? [m] : c.history) if (h.seq > sent) send(conn, h), stats.socketMessages++;
          conn.subs.set(name, m.seq);
        }
      }
      for (const w of [...waiters]) if (w.names.includes(name)) w.wake();
      return c.seq;
    },
    channelState: (name: string) => ({ epoch: channel(name).epoch, seq: channel(name).seq }),
    /** Continuity lost (a new database): new epoch, empty history; seqs continue from 0. */
    newEpoch(name: string) {
      channels.set(name, { epoch: newEpoch(), seq: 0, history: [] });
    },
    /** Answer upgrades with 403 from now on (a proxy that blocks WebSockets). */
    /** Answer the next `n` polls `429` with `Retry-After: 1`. */
    rateLimitPolls(n: number) {
      limited = n;
    },
    refuseUpgrades(on = true) {
      refuse = on;
    },
    /** New sockets are accepted and then never answered (a proxy that upgrades but holds frames). */
    holdNewSockets(on = true) {
      hold = on;
    },
    /** Open sockets stop sending and answering (the TCP connection stays up). */
    blackhole() {
      for (const c of conns) c.blackholed = true;
    },
    closeSockets(code: number) {
      for (const c of conns) c.ws.close(code);
    },
    dropConnections,
    /** Stop listening and drop every connection; channels and history are kept (the database). */
    async stop() {
      for (const w of [...waiters]) w.wake();
      dropConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
    /** Listen again on the same port. */
    restart: () => listen(port),
    async close() {
      dropConnections();
      for (const res of pollRequests) res.destroy();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

export type ProtocolServer = Awaited<ReturnType<typeof startProtocolServer>>;
