// A TCP proxy on 127.0.0.1 in front of the collector that can block
// WebSockets the way a corporate proxy or firewall does, while plain HTTP
// (long polling) still goes through:
//   open     forward everything
//   refuse   an HTTP upgrade request is answered by closing the connection
//   hold     an HTTP upgrade request is accepted at TCP level and never answered
// Only the first request of a connection is inspected: a WebSocket upgrade
// always opens its own connection, and keep-alive HTTP connections carry no
// upgrades. Switching to a blocking mode also cuts upgraded connections.
import { connect, createServer } from 'node:net';

const UPGRADE = /\r\nupgrade:\s*websocket\s*\r\n/i;

/** @param {{ target: string }} o the collector's http://host:port */
export async function startWsProxy({ target, mode = 'open' }) {
  const up = new URL(target);
  const upgraded = new Set();
  const held = new Set();
  const all = new Set();
  const stats = { upgrades: 0, refused: 0, held: 0, forwarded: 0, refusedAt: [] };
  let current = mode;

  const server = createServer((client) => {
    all.add(client);
    client.on('close', () => all.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < 16384) return;
      client.off('data', onData);
      client.pause();
      const isUpgrade = UPGRADE.test(head.subarray(0, end < 0 ? head.length : end + 2).toString('latin1'));
      if (isUpgrade) stats.upgrades++;
      if (isUpgrade && current === 'refuse') {
        stats.refused++;
        stats.refusedAt.push(performance.now());
        client.destroy();
        return;
      }
      if (isUpgrade && current === 'hold') {
        stats.held++;
        held.add(client);
        client.on('close', () => held.delete(client));
        return;
      }
      if (isUpgrade) stats.forwarded++;
      const server = connect(Number(up.port), up.hostname);
      all.add(server);
      server.on('close', () => (all.delete(server), client.destroy()));
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      if (isUpgrade) {
        const pair = { client, server };
        upgraded.add(pair);
        client.on('close', () => upgraded.delete(pair));
      }
      server.write(head);
      client.pipe(server);
      server.pipe(client);
      client.resume();
    };
    client.on('data', onData);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    get mode() {
      return current;
    },
    /** `refuse` or `hold` also cuts the WebSockets open through the proxy. */
    setMode(next) {
      current = next;
      if (next !== 'open') for (const { client, server } of upgraded) client.destroy(), server.destroy();
    },
    async close() {
      for (const s of all) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
