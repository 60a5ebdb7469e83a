import { act } from '@testing-library/react';
import { StrictMode } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { expect, it } from 'vitest';
import { analyticsConfig, sleep, until, useCollector } from './helpers';
import { SsrApp } from './ssrApp';

const server = useCollector();

it('hydrating the server HTML under StrictMode tracks one page view, mismatches nothing, and goes live', async () => {
  const run = `hydrate-${Date.now()}`;
  const app = (
    <StrictMode>
      <SsrApp run={run} analytics={analyticsConfig(server.url)} realtime={server.realtimeOptions()} />
    </StrictMode>
  );
  const container = document.createElement('div');
  container.innerHTML = renderToString(app);
  document.body.append(container);
  const recoverable: unknown[] = [];
  const root = await act(async () => hydrateRoot(container, app, { onRecoverableError: (e) => void recoverable.push(e) }));
  expect(recoverable).toEqual([]);

  const stored = async () => (await server.events()).filter((e) => e.properties?.run === run || (e.traits as { run?: string } | undefined)?.run === run);
  await until(async () => (await stored()).length >= 3, 'the events of the hydrated page');
  await until(() => container.querySelector('#live')!.textContent!.startsWith('open'), 'the realtime connection');
  await act(async () => root.unmount());
  await sleep(200);
  const events = await stored();
  expect(events.filter((e) => e.type === 'page').map((e) => [e.properties!.path, e.properties!.search])).toEqual([['/landing', '?ref=ssr']]);
  expect(events.map((e) => e.event ?? e.type).sort()).toEqual(['Landing Viewed', 'identify', 'page']);
  container.remove();
});
