import type { CallOptions, Properties } from '@sightline/core';
import { useEffect, useRef } from 'react';
import { useAnalytics } from './useAnalytics';

export interface PageViewOptions {
  /** Name of the page events (`page(name)`). @default none */
  name?: string | undefined;
  /** Extra properties of the page events. @default none */
  properties?: Properties | undefined;
  /** Consent category of the page events. @default none: always sent */
  category?: string | undefined;
}

/** `'/docs?tab=api'` as page properties; the router's view wins over `location` (memory and hash routers). */
const fields = (url: string) => {
  const i = url.indexOf('?');
  return i < 0 ? { path: url, search: '' } : { path: url.slice(0, i), search: url.slice(i) };
};

/**
 * Tracks one `page` event per distinct `url` (path and query from your router), or, without `url`,
 * one per mount. StrictMode's second effect run and re-renders with the same url track nothing
 * more; a server render tracks nothing, so hydration tracks exactly once.
 */
export function usePageView(url?: string, options: PageViewOptions = {}): void {
  const { page } = useAnalytics();
  const last = useRef<string | undefined>(undefined);
  useEffect(() => {
    // The ref outlives StrictMode's simulated unmount: its second run sees the same url.
    const key = url ?? '\0mount';
    if (key === last.current) return;
    last.current = key;
    const { name, properties, category } = options;
    page(name, { ...(url != null && fields(url)), ...properties }, category == null ? undefined : ({ category } satisfies CallOptions));
    // Options of the render whose url changed; later ones apply to the next url.
  }, [page, url]);
}
