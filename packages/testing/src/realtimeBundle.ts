import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** `packages/realtime/src/index.ts`: tests bundle the source, so no build step runs first. */
export const realtimeEntry = fileURLToPath(new URL('../../realtime/src/index.ts', import.meta.url));

export interface RealtimeBundleOptions {
  /** Global the IIFE assigns the public entry to. @default 'SightlineRealtime' */
  globalName?: string;
  /** Minify, to look at what a host app would ship. @default false */
  minify?: boolean;
}

const cache = new Map<string, Promise<string>>();

/**
 * Bundles `@sightline/realtime` from source (with `reconnecting-websocket`) into one
 * browser IIFE that sets `window.SightlineRealtime` (or `globalName`). Cached per
 * options for the life of the test process, like `buildCoreBundle`.
 */
export function buildRealtimeBundle(options: RealtimeBundleOptions = {}): Promise<string> {
  const globalName = options.globalName ?? 'SightlineRealtime';
  const minify = options.minify ?? false;
  const key = `${globalName}|${minify}`;
  let bundle = cache.get(key);
  if (bundle === undefined) {
    bundle = build({
      entryPoints: [realtimeEntry],
      bundle: true,
      write: false,
      format: 'iife',
      globalName,
      platform: 'browser',
      target: 'es2022',
      minify,
      // Inline source maps make stack traces in `pageerror` point at the client's source.
      sourcemap: minify ? false : 'inline',
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      logLevel: 'silent',
    }).then((result) => {
      const [output] = result.outputFiles;
      if (output === undefined) throw new Error('[sightline/testing] esbuild produced no output for the realtime bundle');
      return output.text;
    });
    // A failed build must not poison the cache: the next test gets a fresh attempt and the real error.
    bundle.catch(() => cache.delete(key));
    cache.set(key, bundle);
  }
  return bundle;
}
