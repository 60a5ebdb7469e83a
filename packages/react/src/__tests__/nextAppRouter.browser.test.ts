// The Next.js App Router fixture (examples/next-app-router) under `next dev` (StrictMode on, server
// rendering, hydration, client navigations), in Chromium, tracking into the real collector. It uses
// the built package (dist), as an app installing @sightline/react would: a Server Component renders
// AnalyticsProvider, which works only if the 'use client' directive survived the build.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fetchRecentEvents, freePort, startInProcessCollector, useChromium, type InProcessCollector } from '@sightline/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../../../../examples/next-app-router/', import.meta.url));
const project = { id: 'next', writeKey: 'wk-next', readToken: 'rt-next' };
const chromium = useChromium();
let collector: InProcessCollector;
let next: ChildProcess | undefined;
let nextUrl: string;
let nextLog = '';

async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve().then(check).catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${nextLog.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  if (!existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))) throw new Error('Build @sightline/react first (pnpm build): the fixture uses its dist.');
  collector = await startInProcessCollector({ projects: [project] });
  const port = await freePort();
  nextUrl = `http://127.0.0.1:${port}`;
  const bin = createRequire(fixture).resolve('next/dist/bin/next');
  next = spawn(process.execPath, [bin, 'dev', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: fixture,
    env: { ...process.env, NODE_ENV: 'development', NEXT_TELEMETRY_DISABLED: '1', SIGHTLINE_HOST: collector.url, SIGHTLINE_WRITE_KEY: project.writeKey },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  next.stdout!.on('data', (d) => (nextLog += d));
  next.stderr!.on('data', (d) => (nextLog += d));
  // The first request compiles the route: slow on a loaded machine.
  await until(async () => (await fetch(nextUrl, { signal: AbortSignal.timeout(30_000) })).ok, 'next dev to serve /', 110_000);
}, 120_000);

afterAll(async () => {
  // The dev server and its workers: the process group started above.
  if (next?.pid) process.kill(-next.pid, 'SIGTERM');
  await collector?.close();
});

const pageViews = async () =>
  (await fetchRecentEvents(collector.url, project.readToken))
    .reverse()
    .filter((e) => e.type === 'page')
    .map((e) => `${e.properties!.path}${e.properties!.search}`);

it('tracks one page view per navigation: hydration once, client navigations, back, none for re-renders or the same URL', async () => {
  const context = await chromium.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${nextUrl}/`);
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  await until(async () => (await pageViews()).length >= 1, 'the first page view');

  const go = async (link: string, heading: string) => {
    await page.getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor({ timeout: 60_000 });
  };
  await go('Pricing', 'Pricing');
  await page.getByRole('button', { name: /Clicked/ }).click();
  await page.getByRole('button', { name: 'Clicked 1' }).click();
  await go('Docs: API', 'Docs: api');
  await go('Docs: guides', 'Docs: guides');
  await page.goBack();
  await page.getByRole('heading', { name: 'Docs: api', exact: true }).waitFor();
  await go('Docs: API', 'Docs: api');

  const expected = ['/', '/pricing', '/docs?tab=api', '/docs?tab=guides', '/docs?tab=api'];
  await until(async () => (await pageViews()).length >= expected.length, 'five page views');
  // Core batches for a second: anything extra would have arrived by now.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(await pageViews()).toEqual(expected);
  expect(errors).toEqual([]);
  await context.close();
});
