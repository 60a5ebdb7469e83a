import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The demo runs straight from core's source, so `pnpm demo` needs no build of the SDK first.
const coreSource = fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url));

export default defineConfig({
  resolve: {
    alias: { '@sightline/core': coreSource },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
  },
  preview: {
    host: '127.0.0.1',
    port: 5173,
  },
});
