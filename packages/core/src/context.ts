import type { EventContext } from './types';
import { version } from '../package.json';

/** `context.page`, read at each call since single-page apps navigate without reloading. */
export function pageContext(): EventContext['page'] {
  if (typeof location == 'undefined') return;
  const d = globalThis.document;
  return { path: location.pathname, url: location.href, referrer: d?.referrer ?? '', title: d?.title ?? '', search: location.search };
}

/**
 * Returns the builder of each event's `context`. Fields that do not change during a page's life
 * are read once here (Intl and screen reads are slow); page and campaign are read per call.
 */
export function createContext() {
  const n = globalThis.navigator;
  const s = globalThis.screen;
  const base: Record<string, unknown> = { library: { name: '@sightline/core', version } };
  if (n) (base.userAgent = n.userAgent), (base.locale = n.language);
  try {
    base.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {}
  if (s) base.screen = { width: s.width, height: s.height, density: globalThis.devicePixelRatio ?? 1 };
  let lastSearch: string | undefined;
  let campaign: Record<string, string> | undefined;

  return (sessionId: string): EventContext => {
    const c = { ...base, sessionId } as EventContext;
    const page = pageContext();
    if (page) {
      c.page = page;
      // `utm_*` parameters as Segment's `context.campaign` (`utm_campaign` becomes `name`); parsed once per URL.
      if (page.search !== lastSearch) {
        lastSearch = page.search;
        campaign = undefined;
        new URLSearchParams(page.search).forEach((v, k) => {
          if (v && /^utm_/.test(k)) (campaign ??= {})[k == 'utm_campaign' ? 'name' : k.slice(4)] = v;
        });
      }
      if (campaign) c.campaign = campaign;
    }
    return c;
  };
}
