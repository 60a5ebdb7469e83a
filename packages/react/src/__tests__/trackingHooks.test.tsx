import { act, render } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsProvider, TrackOnView, useIdentify, useTrackOnMount } from '../index';
import { recordingClient } from './helpers';

/** An IntersectionObserver the test drives: `show(el, ratio)` reports an entry to every observer of `el`. */
class FakeObserver {
  static all = new Set<FakeObserver>();
  elements = new Set<Element>();
  constructor(
    private callback: IntersectionObserverCallback,
    public options: IntersectionObserverInit = {},
  ) {
    FakeObserver.all.add(this);
  }
  observe(el: Element) {
    this.elements.add(el);
  }
  disconnect() {
    this.elements.clear();
    FakeObserver.all.delete(this);
  }
  unobserve(el: Element) {
    this.elements.delete(el);
  }
  takeRecords() {
    return [];
  }
  static show(el: Element, ratio: number) {
    for (const o of [...FakeObserver.all])
      if (o.elements.has(el))
        o.callback([{ target: el, isIntersecting: ratio > 0, intersectionRatio: ratio } as IntersectionObserverEntry], o as unknown as IntersectionObserver);
  }
}

const g = globalThis as { IntersectionObserver?: unknown };
let saved: unknown;
beforeEach(() => {
  saved = g.IntersectionObserver;
  g.IntersectionObserver = FakeObserver;
});
afterEach(() => {
  g.IntersectionObserver = saved;
  FakeObserver.all.clear();
});

describe('<TrackOnView>', () => {
  it('tracks once per element, the first time it shows, under StrictMode and whatever the later scrolling', () => {
    const { client, of } = recordingClient();
    const view = render(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <TrackOnView event="Viewed Plan" properties={{ plan: 'pro' }} data-testid="pro">
            pro
          </TrackOnView>
          <TrackOnView event="Viewed Plan" properties={{ plan: 'team' }} as="section" data-testid="team" threshold={0.5} category="marketing">
            team
          </TrackOnView>
        </AnalyticsProvider>
      </StrictMode>,
    );
    const pro = view.getByTestId('pro');
    const team = view.getByTestId('team');
    expect(team.tagName).toBe('SECTION');
    expect(of('track')).toEqual([]);
    act(() => FakeObserver.show(pro, 0.1));
    act(() => FakeObserver.show(pro, 0));
    act(() => FakeObserver.show(pro, 1));
    // Below its threshold, then over it.
    act(() => FakeObserver.show(team, 0.2));
    act(() => FakeObserver.show(team, 0.6));
    act(() => FakeObserver.show(team, 0.9));
    expect(of('track')).toEqual([
      ['Viewed Plan', { plan: 'pro' }, undefined],
      ['Viewed Plan', { plan: 'team' }, { category: 'marketing' }],
    ]);
    // Seen elements are no longer observed.
    expect(FakeObserver.all.size).toBe(0);
    view.unmount();
  });

  it('tracks nothing and renders its children where IntersectionObserver is missing', () => {
    g.IntersectionObserver = undefined;
    const { client, of } = recordingClient();
    const view = render(
      <AnalyticsProvider client={client}>
        <TrackOnView event="Viewed">content</TrackOnView>
      </AnalyticsProvider>,
    );
    expect(view.container.textContent).toBe('content');
    expect(of('track')).toEqual([]);
  });
});

describe('useTrackOnMount', () => {
  it('tracks once per mount under StrictMode, not on re-renders', () => {
    const { client, of } = recordingClient();
    function Checkout({ step }: { step: number }) {
      useTrackOnMount('Checkout Started', { step });
      return <p>{step}</p>;
    }
    const view = render(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <Checkout step={1} />
        </AnalyticsProvider>
      </StrictMode>,
    );
    view.rerender(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <Checkout step={2} />
        </AnalyticsProvider>
      </StrictMode>,
    );
    expect(of('track')).toEqual([['Checkout Started', { step: 1 }, { timestamp: expect.any(Number) }]]);
  });
});

describe('useIdentify', () => {
  it('identifies once per user and traits (by value), again after a sign-out, never for no user', () => {
    const { client, of } = recordingClient();
    function Session() {
      const [user, setUser] = useState<string | null>(null);
      const [plan, setPlan] = useState('free');
      // A new traits object on every render: compared by value.
      useIdentify(user, { plan });
      return (
        <>
          <button onClick={() => setUser('u1')}>sign in</button>
          <button onClick={() => setUser(null)}>sign out</button>
          <button onClick={() => setPlan('pro')}>upgrade</button>
          <button onClick={() => setUser((u) => u)}>same</button>
        </>
      );
    }
    const view = render(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <Session />
        </AnalyticsProvider>
      </StrictMode>,
    );
    const click = (text: string) => act(() => view.getByText(text).click());
    expect(of('identify')).toEqual([]);
    click('sign in');
    click('same');
    click('upgrade');
    click('sign out');
    click('sign in');
    expect(of('identify')).toEqual([
      ['u1', { plan: 'free' }, undefined],
      ['u1', { plan: 'pro' }, undefined],
      ['u1', { plan: 'pro' }, undefined],
    ]);
  });
});
