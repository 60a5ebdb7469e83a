import { rmSync } from 'node:fs';
// The source, not the package entry: tests need no build of the collector first.
import { createCollector, type Collector, type CollectorOptions } from '../../collector/src/index';
import { freshPgliteDir } from './collectorProcess';

export interface InProcessCollector {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  collector: Collector;
  /** Closes the collector and removes its PGlite directory when this helper made it. */
  close(): Promise<void>;
}

/**
 * `createCollector()` inside the test process on 127.0.0.1 and a free port, on a
 * fresh PGlite directory unless `databaseUrl`/`dataDir` is given. For options the
 * CLI does not expose (rate limits, body limits); use `startCollectorProcess` to kill it.
 */
export async function startInProcessCollector(options: CollectorOptions = {}): Promise<InProcessCollector> {
  const ownDir = options.databaseUrl === undefined && options.dataDir === undefined && options.database === undefined;
  const dataDir = ownDir ? await freshPgliteDir() : options.dataDir;
  const collector = createCollector({
    logLevel: 'warn',
    ...options,
    host: '127.0.0.1',
    port: 0,
    ...(dataDir !== undefined ? { dataDir } : {}),
  });
  try {
    await collector.listen();
  } catch (error) {
    await collector.close();
    if (ownDir && dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: collector.url,
    collector,
    async close() {
      await collector.close();
      if (ownDir && dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
