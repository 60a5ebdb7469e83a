import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAnalytics, SightlineError } from '../index';
import { setup } from './helpers';

beforeEach(() => localStorage.clear());

describe('invalid input is reported, dropped alone, never thrown', () => {
  it('cycles, BigInt, functions, symbols, huge payloads, missing names', async () => {
    const { analytics, collector, errors } = setup();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const calls = [
      () => analytics.track('Cycle', cyclic),
      () => analytics.track('BigInt', { n: 10n }),
      () => analytics.track('Fn', { f: () => 1 }),
      () => analytics.track('Sym', { s: Symbol('x') }),
      () => analytics.track('Huge', { blob: 'x'.repeat(40_000) }),
      () => analytics.track('Wide', { blob: '日'.repeat(11_000) }),
      () => (analytics.track as (...a: unknown[]) => void)(),
      () => (analytics.track as (...a: unknown[]) => void)(42),
      () => analytics.track('   '),
      () => (analytics.track as (...a: unknown[]) => void)('Array Props', [1, 2]),
      () => (analytics.track as (...a: unknown[]) => void)('String Props', 'nope'),
      () => (analytics.identify as (...a: unknown[]) => void)(null),
      () => analytics.trackAIFeedback({ traceId: 't', score: 9 }),
      () => analytics.recordMetric('latency', NaN),
      () => analytics.track('Bad Time', {}, { timestamp: new Date('not a date') }),
      () => analytics.track('Far Time', {}, { timestamp: 9e15 }),
    ];
    for (const call of calls) expect(call).not.toThrow();
    analytics.track('Valid', { ok: true });
    await analytics.flush();
    expect(collector.names()).toEqual(['Valid']);
    expect(errors).toHaveLength(calls.length);
    expect(errors.every((e) => e.code === 'invalid_event')).toBe(true);
    const text = errors.map((e) => e.message).join('\n');
    expect(text).toMatch(/Cycle.*circular/i);
    expect(text).toMatch(/BigInt.*serialize a BigInt/);
    expect(text).toMatch(/Fn.*function/);
    expect(text).toMatch(/Huge.*over 32 KB/);
    expect(text).toMatch(/Wide.*over 32 KB/);
    expect(text).toMatch(/track\(\) needs a non-empty string/);
    expect(text.match(/Dropped track: Invalid time value/g)).toHaveLength(2);
    expect(errors.every((e) => e.message.startsWith('[sightline] '))).toBe(true);
  });

  it('in production, functions and symbols are left out as JSON does and the event is sent; BigInt still fails', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    try {
      const { analytics, collector, errors } = setup();
      analytics.track('Fn', { f: () => 1, s: Symbol('x'), keep: 1 });
      analytics.track('BigInt', { n: 10n });
      await analytics.flush();
      expect(collector.names()).toEqual(['Fn']);
      expect(collector.requests[0]!.body.batch[0]!.properties).toEqual({ keep: 1 });
      expect(errors.map((e) => e.code)).toEqual(['invalid_event']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a throwing onError or listener never reaches the host', async () => {
    const analytics = createAnalytics({
      writeKey: 'k-throw',
      storage: 'memory',
      onError: () => {
        throw new Error('host bug');
      },
      env: { fetch: async () => ({ status: 200, headers: { get: () => null } }) },
    });
    analytics.on('error', () => {
      throw new Error('listener bug');
    });
    analytics.on('delivered', () => {
      throw new Error('listener bug');
    });
    expect(() => analytics.track('')).not.toThrow();
    analytics.track('A');
    await expect(analytics.flush()).resolves.toBeUndefined();
  });

  it('copies properties at call time: later mutations by the host do not leak in', async () => {
    const { analytics, collector } = setup();
    const props = { step: 1 };
    analytics.track('A', props);
    props.step = 2;
    await analytics.flush();
    expect(collector.requests[0]!.body.batch[0]!.properties).toEqual({ step: 1 });
  });

  it('createAnalytics() without a writeKey is a programmer error and throws with a clear message', () => {
    expect(() => createAnalytics({} as never)).toThrow(/writeKey/);
  });

  it('track() is cheap: 10,000 calls well under a second, nothing serialised on the call', () => {
    const { analytics, online } = setup({ maxQueueEvents: 100_000 });
    online.set(false);
    const props = { plan: 'pro', n: 1 };
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) analytics.track('Perf', props);
    const perCall = (performance.now() - t0) / 10_000;
    // Target a few microseconds in browsers; happy-dom's localStorage/location are slower, so be lenient.
    expect(perCall).toBeLessThan(100);
  });
});

describe('errors and logging', () => {
  it('errors are SightlineError instances (extend Error) with a code', async () => {
    const seen: unknown[] = [];
    const { analytics } = setup({ onError: (e) => seen.push(e) });
    analytics.track('');
    expect(seen[0]).toBeInstanceOf(SightlineError);
    expect(seen[0]).toBeInstanceOf(Error);
    expect((seen[0] as SightlineError).code).toBe('invalid_event');
  });

  it('the logger is silent unless debug, then prefixed [sightline]', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const quiet = setup();
      quiet.analytics.track('');
      quiet.analytics.track('A');
      await quiet.analytics.flush();
      expect(log).not.toHaveBeenCalled();
      const loud = setup({ debug: true });
      loud.analytics.track('');
      await loud.analytics.flush();
      expect(log).toHaveBeenCalled();
      expect(log.mock.calls.every((c) => c[0] === '[sightline]')).toBe(true);
    } finally {
      log.mockRestore();
    }
  });
});
