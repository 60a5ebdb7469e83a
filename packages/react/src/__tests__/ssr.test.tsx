// @vitest-environment node
import { createAnalytics } from '@sightline/core';
import { createRealtimeClient } from '@sightline/realtime';
import { renderToPipeableStream, renderToString } from 'react-dom/server';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyticsConfig, sleep, useCollector } from './helpers';
import { SsrApp } from './ssrApp';

vi.mock('@sightline/core', async (importOriginal) => ({ ...(await importOriginal<object>()), createAnalytics: vi.fn() }));
vi.mock('@sightline/realtime', async (importOriginal) => ({ ...(await importOriginal<object>()), createRealtimeClient: vi.fn() }));

const server = useCollector();
const fetches: string[] = [];
const errors = vi.spyOn(console, 'error');
afterEach(() => errors.mockClear());

function app(run: string) {
  const analytics = { ...analyticsConfig(server.url), env: { fetch: async (url: string) => (fetches.push(url), { status: 200, headers: { get: () => null } }) } };
  return <SsrApp run={run} analytics={analytics} realtime={server.realtimeOptions()} />;
}

async function nothingTracked(run: string) {
  // Give a client (had one been made) time to batch and send.
  await sleep(300);
  expect(createAnalytics).not.toHaveBeenCalled();
  expect(createRealtimeClient).not.toHaveBeenCalled();
  expect(fetches).toEqual([]);
  expect((await server.events()).filter((e) => e.properties?.run === run)).toEqual([]);
  expect(errors).not.toHaveBeenCalled();
}

describe('server rendering', () => {
  it('renderToString: renders the initial state, creates no client, tracks nothing', async () => {
    expect(typeof window).toBe('undefined');
    const html = renderToString(app('ssr-string'));
    expect(html).toContain('connecting loading 0 0');
    expect(html).toContain('metrics loading');
    expect(html).toContain('hero');
    await nothingTracked('ssr-string');
  });

  it('renderToPipeableStream: streams the same, with no error, and tracks nothing', async () => {
    const html = await new Promise<string>((resolve, reject) => {
      let out = '';
      const sink = new Writable({
        write(chunk, _encoding, done) {
          out += chunk;
          done();
        },
      });
      sink.on('finish', () => resolve(out));
      const stream = renderToPipeableStream(app('ssr-stream'), {
        onAllReady: () => stream.pipe(sink),
        onShellError: reject,
        onError: reject,
      });
    });
    expect(html).toContain('connecting loading 0 0');
    await nothingTracked('ssr-stream');
  });
});
