import { beforeEach, describe, expect, it } from 'vitest';
import type { Plugin, SightlineEvent } from '../index';
import { setup, sleep } from './helpers';

beforeEach(() => localStorage.clear());

describe('plugins', () => {
  it('runs before -> enrichment -> destination; before can drop, enrichment can change', async () => {
    const order: string[] = [];
    const seen: SightlineEvent[] = [];
    const plugins: Plugin[] = [
      { name: 'dest', type: 'destination', process: (e) => void (order.push('dest'), seen.push(e)) },
      { name: 'enrich', type: 'enrichment', process: (e) => (order.push('enrich'), { ...e, properties: { ...e.properties, enriched: true } }) },
      { name: 'filter', type: 'before', process: (e) => (order.push('before'), e.event === 'Drop Me' ? null : e) },
    ];
    const { analytics, collector } = setup({ plugins });
    analytics.track('Keep', { a: 1 });
    analytics.track('Drop Me');
    await analytics.flush();
    expect(order.slice(0, 4)).toEqual(['before', 'enrich', 'dest', 'before']);
    expect(collector.names()).toEqual(['Keep']);
    expect(collector.requests[0]!.body.batch[0]!.properties).toEqual({ a: 1, enriched: true });
    expect(seen.map((e) => e.event)).toEqual(['Keep']);
  });

  it('a throwing or rejecting plugin is reported and skipped; delivery goes on', async () => {
    const plugins: Plugin[] = [
      { name: 'boom', type: 'before', process: () => { throw new Error('boom'); } },
      { name: 'async-boom', type: 'enrichment', process: async () => { throw new Error('later'); } },
      { name: 'dest-boom', type: 'destination', process: () => { throw new Error('dest'); } },
      { name: 'bad-load', type: 'enrichment', load: () => Promise.reject(new Error('load')), process: () => null },
    ];
    const { analytics, collector, errors } = setup({ plugins });
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    await sleep(5);
    expect(collector.names()).toEqual(['A', 'B']);
    expect(errors.every((e) => e.code === 'plugin')).toBe(true);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/bad-load[\s\S]*boom[\s\S]*async-boom[\s\S]*dest-boom/);
  });

  it('waits for load() before processing events', async () => {
    let loaded = false;
    const plugin: Plugin = {
      name: 'slow',
      type: 'enrichment',
      load: () => new Promise<void>((r) => setTimeout(() => ((loaded = true), r()), 20)),
      process: (e) => ({ ...e, properties: { loaded } }),
    };
    const { analytics, collector } = setup({ plugins: [plugin] });
    analytics.track('A');
    await analytics.flush();
    expect(collector.requests[0]!.body.batch[0]!.properties).toEqual({ loaded: true });
  });
});
