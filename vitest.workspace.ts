import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import type { TestProjectInlineConfiguration } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * @sightline/react runs its tests twice: on React 19 (packages/react's own devDependencies) and on
 * React 18.3.1. The React 18 copies are the root package's devDependencies (react, react-dom,
 * @testing-library/react, react-router, zustand): pnpm resolves a package's peers from its
 * importer, so only an importer whose `react` is 18 gets Testing Library, zustand and React Router
 * instances bound to React 18 (npm: aliases in packages/react would pair them with React 19).
 * This plugin resolves those imports as if made from the repository root.
 */
function reactFromRoot(): Plugin {
  const bare = /^(react|react-dom|react-router|zustand|@testing-library\/react)(\/.*)?$/;
  const importer = source('./package.json');
  return {
    name: 'sightline:react-18',
    enforce: 'pre',
    resolveId(id) {
      return bare.test(id) ? this.resolve(id, importer, { skipSelf: true }) : null;
    },
  };
}

/**
 * happy-dom projects transform modules for the browser, where Vite rewrites `new URL(path,
 * import.meta.url)` into a page URL; the Node-side helpers the React tests run in-process (the
 * collector and packages/testing) locate their files that way and need the file URL.
 */
function keepFileUrls(): Plugin {
  return {
    name: 'sightline:file-urls',
    enforce: 'pre',
    transform(code, id) {
      return /\/packages\/(testing|collector)\/src\//.test(id) ? code.replaceAll('import.meta.url', "import.meta['url']") : null;
    },
  };
}

/** One React project: the same tests, on the React that `plugins` resolve (the package's own: 19). */
function reactProject(name: string, major: string, plugins: Plugin[] = []): TestProjectInlineConfiguration {
  return {
    plugins: [keepFileUrls(), ...plugins],
    resolve: {
      // The sources, as the packages/testing helpers do: no build needed, and always current.
      alias: {
        '@sightline/core': source('./packages/core/src/index.ts'),
        '@sightline/realtime': source('./packages/realtime/src/index.ts'),
      },
    },
    test: {
      name,
      root: './packages/react',
      environment: 'happy-dom',
      include: ['src/__tests__/**/*.test.{ts,tsx}'],
      exclude: ['src/__tests__/**/*.browser.test.{ts,tsx}'],
      setupFiles: ['fake-indexeddb/auto'],
      env: { SIGHTLINE_REACT_MAJOR: major },
      // Integration files start a collector (PGlite) and real realtime clients.
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...(major === '19' && { typecheck: { enabled: true, include: ['src/__tests__/**/*.test-d.ts'], tsconfig: './tsconfig.json' } }),
    },
  };
}

// Vitest 4 reads only `test.projects`; vitest.config.ts imports this list.
const projects: TestProjectInlineConfiguration[] = [
  {
    test: {
      name: 'core',
      root: './packages/core',
      environment: 'happy-dom',
      include: ['src/__tests__/**/*.test.ts'],
      exclude: ['src/__tests__/**/*.browser.test.ts'],
      setupFiles: ['fake-indexeddb/auto'],
      // Type tests (`*.test-d.ts`): expectTypeOf and @ts-expect-error checked by tsc on every run.
      typecheck: { enabled: true, include: ['src/__tests__/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    },
  },
  {
    test: {
      name: 'collector',
      root: './packages/collector',
      environment: 'node',
      include: ['src/__tests__/**/*.test.ts'],
      exclude: ['src/__tests__/**/*.browser.test.ts'],
      globalSetup: ['../testing/src/globalSetup.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  },
  {
    test: {
      name: 'realtime',
      root: './packages/realtime',
      environment: 'node',
      include: ['src/__tests__/**/*.test.ts'],
      exclude: ['src/__tests__/**/*.browser.test.ts'],
      // Real sockets on 127.0.0.1 with short timings; some tests wait for probes and heartbeats.
      testTimeout: 30_000,
    },
  },
  reactProject('react', '19'),
  reactProject('react-18', '18', [reactFromRoot()]),
  {
    test: {
      name: 'browser',
      root: '.',
      environment: 'node',
      include: ['packages/*/src/__tests__/**/*.browser.test.ts'],
      globalSetup: ['./packages/testing/src/globalSetup.ts'],
      // Each file starts its own collector and Chromium; two cores cannot run many at once.
      fileParallelism: false,
      testTimeout: 90_000,
      hookTimeout: 120_000,
    },
  },
  {
    test: {
      name: 'packaging',
      root: './packages/testing',
      environment: 'node',
      include: ['src/__tests__/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 300_000,
    },
  },
];

export default projects;
