import { createStore, entries } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup, uniqueKey } from './helpers';

beforeEach(() => localStorage.clear());
afterEach(() => {
  delete (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
});

describe('opt-out', () => {
  it('optOut() stops tracking and clears the queue (storage too); optIn() resumes', async () => {
    const writeKey = uniqueKey();
    const { analytics, collector, online } = setup({ writeKey, storage: 'auto' });
    online.set(false);
    analytics.track('Before');
    await analytics.flush();
    expect(await entries(createStore('sightline-' + writeKey, 'events'))).toHaveLength(1);
    analytics.optOut();
    analytics.track('While Out');
    online.set(true);
    await analytics.flush();
    expect(collector.requests).toHaveLength(0);
    expect(await entries(createStore('sightline-' + writeKey, 'events'))).toHaveLength(0);
    analytics.optIn();
    analytics.track('After');
    await analytics.flush();
    expect(collector.names()).toEqual(['After']);
  });

  it('the opt-out is persisted for the next page load', async () => {
    setup().analytics.optOut();
    const { analytics, collector } = setup();
    analytics.track('A');
    await analytics.flush();
    expect(collector.requests).toHaveLength(0);
  });

  it('drops events already in the pipeline when opting out', async () => {
    const { analytics, collector } = setup();
    analytics.track('A');
    analytics.optOut();
    analytics.optIn();
    await analytics.flush();
    expect(collector.requests).toHaveLength(0);
  });
});

describe('consent categories', () => {
  it('drops events whose category is not granted; setConsent() grants later', async () => {
    const { analytics, collector } = setup({ consent: { categories: { analytics: true, marketing: false } } });
    analytics.track('Plain');
    analytics.track('Stats', {}, { category: 'analytics' });
    analytics.track('Ad', {}, { category: 'marketing' });
    analytics.track('Unknown', {}, { category: 'other' });
    analytics.page('Home', {}, { category: 'marketing' });
    analytics.setConsent({ marketing: true });
    analytics.track('Ad 2', {}, { category: 'marketing' });
    analytics.setConsent({ analytics: false });
    analytics.track('Stats 2', {}, { category: 'analytics' });
    await analytics.flush();
    expect(collector.names()).toEqual(['Plain', 'Stats', 'Ad 2']);
  });
});

describe('Global Privacy Control', () => {
  it('is honoured when configured: nothing is tracked', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    const { analytics, collector } = setup({ privacy: { honorGlobalPrivacyControl: true } });
    analytics.track('A');
    await analytics.flush();
    expect(collector.requests).toHaveLength(0);
    // An explicit opt-in by the user wins.
    analytics.optIn();
    analytics.track('B');
    await analytics.flush();
    expect(collector.names()).toEqual(['B']);
  });

  it('is ignored unless configured', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    const { analytics, collector } = setup();
    analytics.track('A');
    await analytics.flush();
    expect(collector.names()).toEqual(['A']);
  });
});
