import { defineConfig } from 'tsup';

/** The build of every browser-facing package (core, realtime, and the React ones to come). */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  target: 'es2020',
  // size-limit measures the minified bundle; keep dist readable.
  minify: false,
  treeshake: true,
  clean: true,
  sourcemap: true,
});
