// Load generator: pre-serialised POST /v1/batch bodies, a fixed number of
// requests in flight over keep-alive connections, bounded by the batch list.
//
// HTTP/1.1 written straight onto one TCP socket per request in flight (as wrk
// does), not through node:http: the load generator shares the 2 cores with the
// collector and the database, and node:http's client cost about 1.2 us of CPU
// per event against a server that only answers (0.6 ms per 500-event request),
// which the collector then did not get. It speaks exactly what the bench needs:
// one request at a time per connection, answers framed by Content-Length.
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive connection to `host:port`. `send` writes a whole request and resolves with the
 * answer's status and body; a connection the server closed is opened again for the next request.
 */
function connection(host, port) {
  let socket = null;
  let buffered = Buffer.alloc(0);
  let waiting = null;

  const fail = (error) => {
    socket?.destroy();
    socket = null;
    buffered = Buffer.alloc(0);
    const w = waiting;
    waiting = null;
    w?.reject(error);
  };

  // An answer is whole once its headers and Content-Length bytes of body are in.
  const tryAnswer = () => {
    if (!waiting) return;
    const end = buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = buffered.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return fail(new Error('chunked answers are not supported by the load generator'));
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const total = end + 4 + length;
    if (buffered.length < total) return;
    const text = buffered.subarray(end + 4, total).toString();
    const close = /\r\nconnection:\s*close/i.test(head);
    buffered = buffered.subarray(total);
    const w = waiting;
    waiting = null;
    if (close) {
      socket?.destroy();
      socket = null;
      buffered = Buffer.alloc(0);
    }
    w.resolve({ status, text });
  };

  const open = () => {
    const s = net.connect({ host, port, noDelay: true });
    s.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      tryAnswer();
    });
    s.on('error', (error) => { if (socket === s) fail(error); });
    s.on('close', () => { if (socket === s) fail(new Error('connection closed by the server')); });
    return s;
  };

  return {
    send(head, body, timeoutMs) {
      return new Promise((resolve, reject) => {
        socket ??= open();
        const timer = setTimeout(() => fail(new Error('request timeout')), timeoutMs);
        waiting = {
          resolve: (answer) => { clearTimeout(timer); resolve(answer); },
          reject: (error) => { clearTimeout(timer); reject(error); },
        };
        socket.write(head);
        socket.write(body);
      });
    },
    close() {
      socket?.destroy();
      socket = null;
    },
  };
}

/**
 * @param {{ url: string, writeKey: string, bodies: Buffer[], inFlight: number, path?: string }} o
 */
export async function drive(o) {
  const target = new URL(o.path ?? '/v1/batch', o.url);
  const auth = 'Basic ' + Buffer.from(o.writeKey + ':').toString('base64');
  const headOf = (length) => Buffer.from(
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\nAuthorization: ${auth}\r\n\r\n`,
    'latin1',
  );
  const latencies = new Array(o.bodies.length);
  const statuses = {};
  let accepted = 0;
  let duplicates = 0;
  let failures = 0;
  let firstError;
  let next = 0;

  const worker = async () => {
    const conn = connection(target.hostname, Number(target.port || 80));
    try {
      while (next < o.bodies.length) {
        const i = next++;
        const body = o.bodies[i];
        const head = headOf(body.length);
        const t0 = performance.now();
        try {
          const { status, text } = await conn.send(head, body, 60000);
          latencies[i] = performance.now() - t0;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            const j = JSON.parse(text);
            accepted += j.accepted ?? 0;
            duplicates += j.duplicates ?? 0;
          } else {
            failures++;
            firstError ??= `${status} ${text.slice(0, 300)}`;
          }
        } catch (err) {
          latencies[i] = performance.now() - t0;
          failures++;
          firstError ??= err.message;
        }
      }
    } finally {
      conn.close();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.inFlight }, worker));
  const ms = performance.now() - t0;
  return { ms, latencies, statuses, accepted, duplicates, failures, firstError };
}
