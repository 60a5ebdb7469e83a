import type { Properties } from '@sightline/core';
import { createElement, useEffect, useRef, type HTMLAttributes, type JSX } from 'react';
import { useAnalytics } from './useAnalytics';

export interface TrackOnViewProps extends HTMLAttributes<HTMLElement> {
  /** The `track` event sent the first time the element shows. */
  event: string;
  /** @default none */
  properties?: Properties | undefined;
  /** Consent category of the event. @default none: always sent */
  category?: string | undefined;
  /** Share of the element that must be visible, 0 to 1 (elements taller than the viewport never reach 1). @default 0: any part */
  threshold?: number;
  /** IntersectionObserver's `rootMargin`, e.g. `'-20% 0px'`. @default '0px' */
  rootMargin?: string;
  /** The element rendered around `children`. @default 'div' */
  as?: keyof JSX.IntrinsicElements;
}

/**
 * Tracks `event` once, the first time its element scrolls into view (IntersectionObserver), whatever
 * the re-renders, StrictMode or later scrolling. Where IntersectionObserver is missing it tracks nothing.
 *
 * @example
 * <TrackOnView event="Viewed Pricing Table" properties={{ plans: 3 }}>
 *   <PricingTable />
 * </TrackOnView>
 */
export function TrackOnView({ event, properties, category, threshold = 0, rootMargin = '0px', as = 'div', ...rest }: TrackOnViewProps) {
  const { track } = useAnalytics();
  const ref = useRef<HTMLElement>(null);
  const seen = useRef(false);
  // The event as of the latest render, for an observer created at mount.
  const send = useRef<() => void>(undefined);
  send.current = () => track(event, properties, category == null ? undefined : { category });
  useEffect(() => {
    const el = ref.current;
    if (seen.current || !el || typeof IntersectionObserver == 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (seen.current || !entries.some((e) => e.isIntersecting && e.intersectionRatio >= threshold)) return;
        seen.current = true;
        observer.disconnect();
        send.current!();
      },
      { threshold, rootMargin },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [threshold, rootMargin]);
  return createElement(as, { ...rest, ref });
}
