import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { KeyStore } from '../auth';
import { HttpError } from '../errors';
import { createConcurrencyLimit } from './concurrencyLimit';
import type { RealtimeHub } from './hubTypes';
import { REALTIME_LIMITS } from './options';
import { registerPollRoute } from './pollRoute';
import { CLOSE, handleConnection, type SocketConnection } from './socketConnection';

/** What the realtime routes need. */
export interface RealtimeRouteDeps {
  hub: RealtimeHub;
  keys: KeyStore;
}

// On shutdown, how long a socket has to complete the 1001 close before it is cut: close() must not wait for it.
const SHUTDOWN_GRACE_MS = 1_000;

/**
 * `GET /v1/realtime` (WebSocket) and `GET /v1/realtime/poll`, in a scope of their own so the
 * WebSocket plugin's hooks stay off the ingest routes. Register inside the scope that has CORS
 * and the shutdown 503 (which then also refuses new upgrades during shutdown).
 */
export async function registerRealtimeRoutes(scope: FastifyInstance, deps: RealtimeRouteDeps): Promise<void> {
  const { hub } = deps;
  const connections = new Set<SocketConnection>();
  const stats = { slowConsumers: 0 };
  const sockets = createConcurrencyLimit(hub.options.maxSocketsPerProject);
  const log = { warn: (fields: object, message: string) => scope.log.warn(fields, message) };

  const closeAll = () => {
    for (const connection of connections) connection.close(CLOSE.goingAway, 'shutting down', SHUTDOWN_GRACE_MS);
  };
  hub.onShutdown(closeAll);

  await scope.register(websocket, {
    // 16 KB client frames (more closes with 1009); no compression: it costs memory and CPU per socket.
    options: { maxPayload: REALTIME_LIMITS.maxClientFrameBytes, perMessageDeflate: false },
    // Our own: the default closes with 1000 and waits for every client to answer.
    preClose(done) {
      closeAll();
      done();
    },
    // A reset connection or an oversized frame (ws closes it with 1009 itself): not our error.
    errorHandler(error, _socket, request) {
      request.log.debug({ err: error }, 'realtime socket error');
    },
  });

  // One timer for every socket: ping, and terminate those that did not answer the previous ping.
  const pings = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, hub.options.pingIntervalMs);
  pings.unref();
  scope.addHook('onClose', (_instance, done) => {
    clearInterval(pings);
    done();
  });

  scope.route({
    method: 'GET',
    url: '/v1/realtime',
    // A plain GET (no Upgrade): @fastify/websocket would answer an empty 404, which reads like a
    // wrong URL. RFC 9110 15.5.22: 426 with the protocol to switch to.
    handler() {
      throw new HttpError(
        426,
        'upgrade_required',
        'GET /v1/realtime is a WebSocket: open it with a WebSocket client, or long-poll GET /v1/realtime/poll.',
        null,
        { upgrade: 'websocket' },
      );
    },
    wsHandler(ws) {
      if (hub.shuttingDown) {
        ws.close(CLOSE.goingAway, 'shutting down');
        return;
      }
      const connection = handleConnection(ws, { hub, keys: deps.keys, log, stats, sockets }, () => connections.delete(connection));
      connections.add(connection);
    },
  });

  registerPollRoute(scope, deps);
}
