import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SESSION_TIMEOUT } from '../index';
import { setup } from './helpers';

beforeEach(() => localStorage.clear());
afterEach(() => {
  vi.restoreAllMocks();
  history.replaceState(null, '', '/');
});

describe('calls', () => {
  it('page, screen, identify, group, alias build Segment-shaped events', async () => {
    const { analytics, collector } = setup();
    history.replaceState(null, '', '/pricing?utm_source=news&utm_campaign=launch&x=1');
    analytics.page('Pricing', { variant: 'b' });
    analytics.screen('Home');
    analytics.identify('user-1', { plan: 'pro' });
    analytics.group('org-1', { seats: 3 });
    analytics.alias('user-2');
    analytics.track('After Identify');
    await analytics.flush();
    const [page, screen, identify, group, alias, track] = collector.requests.flatMap((r) => r.body.batch);
    expect(page).toMatchObject({ type: 'page', name: 'Pricing', properties: { path: '/pricing', search: '?utm_source=news&utm_campaign=launch&x=1', variant: 'b' } });
    expect(page!.properties!.url).toMatch(/\/pricing\?/);
    expect(page!.context.page).toMatchObject({ path: '/pricing', title: expect.any(String), referrer: expect.any(String) });
    expect(page!.context.campaign).toEqual({ source: 'news', name: 'launch' });
    expect(screen).toMatchObject({ type: 'screen', name: 'Home' });
    expect(screen!.userId).toBeUndefined();
    expect(identify).toMatchObject({ type: 'identify', userId: 'user-1', traits: { plan: 'pro' } });
    expect(group).toMatchObject({ type: 'group', groupId: 'org-1', traits: { seats: 3 }, userId: 'user-1' });
    expect(alias).toMatchObject({ type: 'alias', userId: 'user-2', previousId: 'user-1' });
    expect(track).toMatchObject({ userId: 'user-1', anonymousId: analytics.anonymousId });
    for (const e of [page, track]) {
      expect(e!.context).toMatchObject({ userAgent: expect.any(String), locale: expect.any(String), timezone: expect.any(String), screen: { width: expect.any(Number) } });
    }
  });

  it('a call can say when it happened (options.timestamp, a Date or epoch ms)', async () => {
    const { analytics, collector } = setup();
    const earlier = new Date('2026-03-04T05:06:07.089Z');
    analytics.track('Then', {}, { timestamp: earlier });
    analytics.page('Then Too', undefined, { timestamp: earlier.getTime() + 1 });
    analytics.track('Now');
    await analytics.flush();
    const [then, thenToo, now] = collector.requests.flatMap((r) => r.body.batch);
    expect(then!.timestamp).toBe('2026-03-04T05:06:07.089Z');
    expect(thenToo!.timestamp).toBe('2026-03-04T05:06:07.090Z');
    // The messageIds keep the time of the calls (UUID v7: the first 48 bits), so the queue's order is
    // call order whatever times the calls give.
    const idTime = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(Math.abs(idTime(then!.messageId) - Date.now())).toBeLessThan(60_000);
    expect([then!.messageId, thenToo!.messageId, now!.messageId]).toEqual([then!.messageId, thenToo!.messageId, now!.messageId].sort());
    expect(Date.parse(now!.timestamp)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('context follows navigation, title and session within one burst, and its JSON stays whole', async () => {
    const { analytics, collector } = setup();
    history.replaceState(null, '', '/a?utm_source=x');
    analytics.track('One');
    analytics.track('Two');
    document.title = 'Renamed';
    analytics.track('Three');
    history.replaceState(null, '', '/b');
    analytics.track('Four');
    analytics.reset();
    analytics.track('Five');
    await analytics.flush();
    const events = collector.requests.flatMap((r) => r.body.batch);
    expect(events.map((e) => [e.event, e.context.page?.path, e.context.page?.title, e.context.campaign?.source])).toEqual([
      ['One', '/a', expect.any(String), 'x'],
      ['Two', '/a', events[0]!.context.page!.title, 'x'],
      ['Three', '/a', 'Renamed', 'x'],
      ['Four', '/b', 'Renamed', undefined],
      ['Five', '/b', 'Renamed', undefined],
    ]);
    expect(events[3]!.context.sessionId).toBe(events[0]!.context.sessionId);
    expect(events[4]!.context.sessionId).not.toBe(events[0]!.context.sessionId);
    // The spliced JSON: one context per event, last, and no key twice (JSON.parse would keep the last silently).
    const raw = collector.requests.map((r) => r.raw).join('');
    expect(raw.match(/"context":\{"library"/g)).toHaveLength(5);
    expect(raw.match(/"messageId"/g)).toHaveLength(5);
    for (const e of events) expect(Object.keys(e).at(-1)).toBe('context');
  });

  it('a plugin that changes context changes only its own event', async () => {
    const { analytics, collector } = setup({
      plugins: [{ name: 'tag', type: 'enrichment', process: (e) => (e.event == 'A' && ((e.context.page!.title = 'tagged'), ((e.context as Record<string, unknown>)['app'] = 'x')), e) }],
    });
    history.replaceState(null, '', '/p');
    analytics.track('A');
    analytics.track('B');
    await analytics.flush();
    analytics.track('C');
    await analytics.flush();
    const events = collector.requests.flatMap((r) => r.body.batch);
    expect(events.map((e) => [e.event, e.context.page!.title == 'tagged', 'app' in e.context])).toEqual([
      ['A', true, true],
      ['B', false, false],
      ['C', false, false],
    ]);
  });

  it('AI and metric helpers send the reserved track events', async () => {
    const { analytics, collector } = setup();
    const gen = { model: 'gpt-x', provider: 'openai', inputTokens: 10, outputTokens: 20, latencyMs: 300, costUsd: 0.001, success: true, traceId: 't1' };
    analytics.trackAIGeneration(gen);
    analytics.trackAIFeedback({ traceId: 't1', score: -1, comment: 'bad' });
    analytics.trackAIFeedback({ traceId: 't1', score: 5 });
    analytics.recordMetric('checkout.latency', 120, { type: 'histogram', category: 'performance', labels: { region: 'eu' } });
    analytics.recordMetric('signups', 1);
    await analytics.flush();
    const events = collector.requests.flatMap((r) => r.body.batch);
    expect(events.map((e) => e.event)).toEqual(['AI Generation', 'AI Feedback', 'AI Feedback', 'Metric Recorded', 'Metric Recorded']);
    expect(events[0]!.properties).toEqual(gen);
    expect(events[3]!.properties).toEqual({ name: 'checkout.latency', value: 120, type: 'histogram', category: 'performance', labels: { region: 'eu' } });
    expect(events[4]!.properties).toEqual({ name: 'signups', value: 1, type: 'gauge', category: 'business' });
  });
});

describe('identity and sessions', () => {
  it('anonymousId and userId persist across instances; reset() forgets them', async () => {
    const first = setup().analytics;
    first.identify('u1');
    const second = setup().analytics;
    expect(second.anonymousId).toBe(first.anonymousId);
    expect(second.userId).toBe('u1');
    const session = second.sessionId;
    second.reset();
    expect(second.userId).toBeUndefined();
    expect(second.anonymousId).not.toBe(first.anonymousId);
    expect(second.sessionId).not.toBe(session);
  });

  it('a new session after 30 minutes without activity, shared by tabs', () => {
    let now = Date.now();
    const tabA = setup({ env: { now: () => now } }).analytics;
    const tabB = setup({ env: { now: () => now } }).analytics;
    tabA.track('A');
    const s1 = tabA.sessionId;
    expect(tabB.sessionId).toBe(s1);
    // Activity in tab B keeps tab A's session alive.
    now += SESSION_TIMEOUT - 60_000;
    tabB.track('B');
    now += SESSION_TIMEOUT - 60_000;
    tabA.track('C');
    expect(tabA.sessionId).toBe(s1);
    now += SESSION_TIMEOUT + 1;
    tabA.track('D');
    const s2 = tabA.sessionId;
    expect(s2).not.toBe(s1);
    expect(tabB.sessionId).toBe(s2);
  });
});
