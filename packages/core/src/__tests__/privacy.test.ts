import { beforeEach, describe, expect, it, vi } from 'vitest';
import { privacyRules } from '../index';
import { setup } from './helpers';

beforeEach(() => localStorage.clear());

describe('privacy rules', () => {
  it('rules passed as a plain array (JavaScript, no privacyRules()) drop the event with a report instead of sending it unmasked', async () => {
    const { analytics, collector, errors } = setup({ privacy: { rules: [{ path: 'email', action: 'hash' }] as never } });
    analytics.track('X', { email: 'jane@example.com' });
    await analytics.flush();
    expect(collector.requests).toHaveLength(0);
    expect(errors.map((e) => e.code)).toEqual(['invalid_event']);
  });

  it('hash (SHA-256 hex), mask and remove run before anything is stored or sent, on properties and traits', async () => {
    const { analytics, collector } = setup({
      privacy: {
        rules: privacyRules([
          { path: 'email', action: 'hash' },
          { path: 'card', action: 'mask' },
          { path: 'address.street', action: 'remove' },
        ]),
      },
    });
    const props = { email: 'jane@example.com', card: '4111 1111 1111 1111', address: { street: '1 Main St', city: 'Paris' }, plan: 'pro' };
    analytics.track('Paid', props);
    analytics.identify('u1', { email: 'jane@example.com' });
    await analytics.flush();
    const [track, identify] = collector.requests.flatMap((r) => r.body.batch);
    const expected = await sha256('jane@example.com');
    expect(track!.properties).toEqual({ email: expected, card: '***', address: { city: 'Paris' }, plan: 'pro' });
    expect(identify!.traits).toEqual({ email: expected });
    // The host's objects are untouched.
    expect(props.address.street).toBe('1 Main St');
    expect(props.email).toBe('jane@example.com');
  });

  it('hash equals the known SHA-256 of "abc"', async () => {
    const { analytics, collector } = setup({ privacy: { rules: privacyRules([{ path: 'v', action: 'hash' }]) } });
    analytics.track('X', { v: 'abc' });
    await analytics.flush();
    expect(collector.requests[0]!.body.batch[0]!.properties!.v).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('removes the value (never sends it in clear) when WebCrypto is missing, and reports it', async () => {
    const subtle = globalThis.crypto.subtle;
    const digest = vi.spyOn(subtle, 'digest').mockRejectedValue(new Error('no subtle'));
    try {
      const { analytics, collector, errors } = setup({ privacy: { rules: privacyRules([{ path: 'email', action: 'hash' }]) } });
      analytics.track('X', { email: 'jane@example.com', keep: 1 });
      await analytics.flush();
      expect(collector.requests[0]!.body.batch[0]!.properties).toEqual({ keep: 1 });
      expect(errors.map((e) => e.code)).toEqual(['privacy']);
    } finally {
      digest.mockRestore();
    }
  });
});

async function sha256(s: string) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
