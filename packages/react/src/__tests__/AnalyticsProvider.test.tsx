import { createAnalytics, type Analytics } from '@sightline/core';
import { act, render } from '@testing-library/react';
import { StrictMode, useLayoutEffect, useRef, useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AnalyticsProvider, useAnalytics, useTrackOnMount } from '../index';
import { analyticsConfig, recordingClient, sleep, until, useCollector } from './helpers';

// Every client the provider creates, with `shutdown` spied: the public entry, watched.
vi.mock('@sightline/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@sightline/core')>();
  return {
    ...core,
    createAnalytics: vi.fn((options: Parameters<typeof core.createAnalytics>[0]) => {
      const client = core.createAnalytics(options);
      vi.spyOn(client, 'shutdown');
      return client;
    }),
  };
});
const created = () => vi.mocked(createAnalytics).mock.results.map((r) => r.value as Analytics);
afterEach(() => vi.mocked(createAnalytics).mockClear());

const server = useCollector();
let runs = 0;
const newRun = () => `run-${Date.now()}-${runs++}`;
const storedFor = async (run: string) => (await server.events()).filter((e) => e.properties?.run === run).map((e) => e.event ?? e.type);

/** Tracks from a child's layout effect and passive effect: both run before the provider's effect creates the client. */
function EarlyChild({ run }: { run: string }) {
  const { track } = useAnalytics();
  const once = useRef(false);
  useLayoutEffect(() => {
    if (once.current) return;
    once.current = true;
    track('Child Layout Effect', { run });
  }, [track, run]);
  useTrackOnMount('Child Mounted', { run });
  return null;
}

describe('AnalyticsProvider with a config', () => {
  it('creates exactly one client under StrictMode, delivers the calls made before it existed once each, in order', async () => {
    const run = newRun();
    const view = render(
      <StrictMode>
        <AnalyticsProvider config={analyticsConfig(server.url)}>
          <EarlyChild run={run} />
        </AnalyticsProvider>
      </StrictMode>,
    );
    // StrictMode mounted, unmounted and mounted again: one client, never shut down by that.
    await sleep(50);
    expect(createAnalytics).toHaveBeenCalledTimes(1);
    expect(created()[0]!.shutdown).not.toHaveBeenCalled();

    await until(async () => (await storedFor(run)).length >= 2, 'the early events');
    view.unmount();
    await until(() => vi.mocked(created()[0]!.shutdown).mock.calls.length, 'shutdown on unmount');
    expect(await storedFor(run)).toEqual(['Child Layout Effect', 'Child Mounted']);
    expect(created()[0]!.shutdown).toHaveBeenCalledTimes(1);
  });

  it('delivers a call made during the first render (no client yet) once', async () => {
    const run = newRun();
    function RenderPhase() {
      const { track } = useAnalytics();
      const [first] = useState(() => (track('During Render', { run }), true));
      return <p>{String(first)}</p>;
    }
    const view = render(
      <AnalyticsProvider config={analyticsConfig(server.url)}>
        <RenderPhase />
      </AnalyticsProvider>,
    );
    await until(async () => (await storedFor(run)).length, 'the render-phase event');
    view.unmount();
    await sleep(100);
    expect(await storedFor(run)).toEqual(['During Render']);
  });

  it('does not throw into the app when the config is wrong (no writeKey), and says so in development', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    function Tracks() {
      const { track } = useAnalytics();
      return <button onClick={() => track('Click')}>go</button>;
    }
    const view = render(
      <AnalyticsProvider config={{ writeKey: '' }}>
        <Tracks />
      </AnalyticsProvider>,
    );
    act(() => view.getByText('go').click());
    expect(error.mock.calls.some((c) => c[0] === '[sightline]' && String(c[1]).includes('writeKey'))).toBe(true);
    view.unmount();
    error.mockRestore();
  });
});

describe('AnalyticsProvider with a client', () => {
  it('uses the client as given, never shuts it down, and moves to a new client prop', () => {
    const a = recordingClient();
    const b = recordingClient();
    function Tracks() {
      const { track } = useAnalytics();
      return <button onClick={() => track('Click')}>go</button>;
    }
    const view = render(
      <StrictMode>
        <AnalyticsProvider client={a.client}>
          <Tracks />
        </AnalyticsProvider>
      </StrictMode>,
    );
    act(() => view.getByText('go').click());
    view.rerender(
      <StrictMode>
        <AnalyticsProvider client={b.client}>
          <Tracks />
        </AnalyticsProvider>
      </StrictMode>,
    );
    act(() => view.getByText('go').click());
    view.unmount();
    expect(a.of('track')).toEqual([['Click']]);
    expect(b.of('track')).toEqual([['Click']]);
    expect([...a.of('shutdown'), ...b.of('shutdown')]).toEqual([]);
    expect(createAnalytics).not.toHaveBeenCalled();
  });

  it('buffers calls while the client is still loading (lazy) and delivers them to the collector when it comes', async () => {
    const run = newRun();
    let flushed = false;
    function Page() {
      const { track, flush } = useAnalytics();
      return (
        <button
          onClick={() => {
            track('Clicked While Loading', { run });
            void flush().then(() => (flushed = true));
          }}
        >
          go
        </button>
      );
    }
    const view = render(
      <AnalyticsProvider client={undefined}>
        <Page />
      </AnalyticsProvider>,
    );
    act(() => view.getByText('go').click());
    await sleep(100);
    expect(await storedFor(run)).toEqual([]);
    expect(flushed).toBe(false);

    const { createAnalytics: realCreate } = await vi.importActual<typeof import('@sightline/core')>('@sightline/core');
    const client = realCreate(analyticsConfig(server.url));
    view.rerender(
      <AnalyticsProvider client={client}>
        <Page />
      </AnalyticsProvider>,
    );
    // The buffered flush() resolved once the client had sent the buffered event.
    await until(() => flushed, 'the buffered flush');
    expect(await storedFor(run)).toEqual(['Clicked While Loading']);
    view.unmount();
    await client.shutdown();
  });
});

describe('useAnalytics', () => {
  it('returns the same functions on every render', () => {
    const seen: unknown[] = [];
    function Reader({ n }: { n: number }) {
      const actions = useAnalytics();
      seen.push(actions.track, actions.page, actions.identify);
      return <p>{n}</p>;
    }
    const { client } = recordingClient();
    const view = render(
      <AnalyticsProvider client={client}>
        <Reader n={1} />
      </AnalyticsProvider>,
    );
    view.rerender(
      <AnalyticsProvider client={client}>
        <Reader n={2} />
      </AnalyticsProvider>,
    );
    expect(seen[3]).toBe(seen[0]);
    expect(seen[4]).toBe(seen[1]);
    expect(seen[5]).toBe(seen[2]);
  });

  it('outside a provider: drops calls without throwing and warns in development', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let flush: Promise<void> | undefined;
    function Lonely() {
      const { track, flush: f } = useAnalytics();
      return (
        <button
          onClick={() => {
            track('Nowhere');
            flush = f();
          }}
        >
          go
        </button>
      );
    }
    const view = render(<Lonely />);
    act(() => view.getByText('go').click());
    await expect(flush).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('[sightline] useAnalytics() outside <AnalyticsProvider>'));
    warn.mockRestore();
  });
});
