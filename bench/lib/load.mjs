// Load generator: pre-serialised POST /v1/batch bodies, a fixed number of
// requests in flight over keep-alive connections, bounded by the batch list.
import http from 'node:http';

/**
 * @param {{ url: string, writeKey: string, bodies: Buffer[], inFlight: number, path?: string }} o
 */
export async function drive(o) {
  const target = new URL(o.path ?? '/v1/batch', o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.inFlight });
  const auth = 'Basic ' + Buffer.from(o.writeKey + ':').toString('base64');
  const latencies = new Array(o.bodies.length);
  const statuses = {};
  let accepted = 0;
  let duplicates = 0;
  let failures = 0;
  let firstError;
  let next = 0;

  const post = (body) => new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: auth },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(60000, () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    req.end(body);
  });

  const worker = async () => {
    while (next < o.bodies.length) {
      const i = next++;
      const t0 = performance.now();
      try {
        const { status, text } = await post(o.bodies[i]);
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
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.inFlight }, worker));
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, latencies, statuses, accepted, duplicates, failures, firstError };
}
