import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** `packages/core/src/index.ts`: tests bundle the source, so no build step runs first. */
export const coreEntry = fileURLToPath(new URL('../../core/src/index.ts', import.meta.url));
/** `packages/realtime/src/index.ts`, bundled with `reconnecting-websocket`. */
export const realtimeEntry = fileURLToPath(new URL('../../realtime/src/index.ts', import.meta.url));

export interface PageBundleOptions {
  /** Global the IIFE assigns the public entry to. @default 'Sightline' (core), 'SightlineRealtime' (realtime) */
  globalName?: string;
  /** `process.env.NODE_ENV` inside the bundle, so dev-only checks run or vanish. @default 'development' */
  nodeEnv?: 'development' | 'production';
  /** Minify, to look at what a host app would ship. @default false */
  minify?: boolean;
}

const cache = new Map<string, Promise<string>>();

/**
 * Bundles a package's source (`entry`) into one browser IIFE that sets `window[globalName]`.
 * Cached per entry and options for the life of the test process; esbuild needs well under a
 * second, so nothing is kept on disk.
 */
function buildPageBundle(entry: string, defaultGlobal: string, options: PageBundleOptions): Promise<string> {
  const globalName = options.globalName ?? defaultGlobal;
  const nodeEnv = options.nodeEnv ?? 'development';
  const minify = options.minify ?? false;
  const key = `${entry}|${globalName}|${nodeEnv}|${minify}`;
  let bundle = cache.get(key);
  if (bundle === undefined) {
    bundle = build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'iife',
      globalName,
      platform: 'browser',
      target: 'es2022',
      minify,
      // Inline source maps make stack traces in `pageerror` point at the package's source.
      sourcemap: minify ? false : 'inline',
      define: { 'process.env.NODE_ENV': JSON.stringify(nodeEnv) },
      logLevel: 'silent',
    }).then((result) => {
      const [output] = result.outputFiles;
      if (output === undefined) throw new Error(`[sightline/testing] esbuild produced no output for ${entry}`);
      return output.text;
    });
    // A failed build must not poison the cache: the next test gets a fresh attempt and the real error.
    bundle.catch(() => cache.delete(key));
    cache.set(key, bundle);
  }
  return bundle;
}

/** `@sightline/core` for a page: `window.Sightline` (or `globalName`). */
export function buildCoreBundle(options: PageBundleOptions = {}): Promise<string> {
  return buildPageBundle(coreEntry, 'Sightline', options);
}

/** `@sightline/realtime` for a page: `window.SightlineRealtime` (or `globalName`). */
export function buildRealtimeBundle(options: PageBundleOptions = {}): Promise<string> {
  return buildPageBundle(realtimeEntry, 'SightlineRealtime', options);
}
