import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startCollectorProcess, type CollectorProcess } from './collectorProcess';
import { startFaultProxy, type Fault, type FaultProxy, type ProxiedRequest } from './faultProxy';
// For `inject('databaseUrl')`'s type: globalSetup declares what it provides.
import type {} from './globalSetup';
import { createDatabase } from './postgres';

/** Where the collector of a rig stores events. */
export interface Backend {
  name: 'PGlite' | 'PostgreSQL';
  /** PostgreSQL server URL (the globalSetup's `databaseUrl`); a fresh database is created in it. */
  serverUrl?: string;
}

/**
 * The backends a browser test runs on: PGlite always, and the run's PostgreSQL
 * server when the Vitest globalSetup provided one. Call it at the top of a test file.
 */
export function testBackends(): Backend[] {
  const serverUrl = inject('databaseUrl');
  return [{ name: 'PGlite' }, ...(serverUrl ? [{ name: 'PostgreSQL' as const, serverUrl }] : [])];
}

/** A collector process (on PGlite or a fresh PostgreSQL database) behind a fault proxy. */
export interface DeliveryRig {
  backend: Backend['name'];
  writeKey: string;
  readToken: string;
  collector: CollectorProcess;
  /** Point the SDK here: it records every request and injects `fault`s. */
  proxy: FaultProxy;
  /** Sets (or clears) the fault rule applied to every following request. */
  setFault(fault?: (request: ProxiedRequest) => Fault | undefined): void;
  close(): Promise<void>;
}

/** Starts a collector process for `backend` and a fault proxy in front of it. Close it in `afterAll`. */
export async function startDeliveryRig(backend: Backend, prefix = 'browser'): Promise<DeliveryRig> {
  const writeKey = `wk_${randomBytes(8).toString('hex')}`;
  const readToken = `rt_${randomBytes(12).toString('hex')}`;
  const database = backend.serverUrl !== undefined ? await createDatabase(backend.serverUrl, `sightline_${prefix}`) : undefined;
  let collector: CollectorProcess;
  try {
    collector = await startCollectorProcess({
      writeKey,
      readToken,
      ...(database !== undefined ? { databaseUrl: database.url } : {}),
    });
  } catch (error) {
    await database?.drop();
    throw error;
  }
  let rule: ((request: ProxiedRequest) => Fault | undefined) | undefined;
  const proxy = await startFaultProxy({ target: collector.url, fault: (request) => rule?.(request) });
  return {
    backend: backend.name,
    writeKey,
    readToken,
    collector,
    proxy,
    setFault(fault) {
      rule = fault;
    },
    async close() {
      await proxy.close();
      await collector.close();
      await database?.drop();
    },
  };
}
