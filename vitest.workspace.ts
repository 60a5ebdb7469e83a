import type { TestProjectInlineConfiguration } from 'vitest/config';

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
