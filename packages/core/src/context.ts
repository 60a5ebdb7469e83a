import type { EventContext } from './types';
import { version } from '../package.json';

let last: EventContext['page'];

/**
 * `context.page`, read at each call since single-page apps navigate without reloading. Chromium's
 * `location.href`, `.pathname` and `.search` cost up to ~1 µs each: they are read again only when the URL changed.
 * The same object comes back while URL, referrer and title stay the same, so the drain can reuse the
 * context built for it (never mutate it).
 */
export function pageContext(): EventContext['page'] {
  const l = globalThis.location;
  const d = globalThis.document;
  if (!l) return;
  // `document.URL` is the same string, read about 15 times faster than `location.href` in Chromium.
  const url = d?.URL ?? l.href;
  const referrer = d?.referrer ?? '';
  const title = d?.title ?? '';
  if (url != last?.url || referrer != last.referrer || title != last.title) last = { path: l.pathname, url, search: l.search, referrer, title };
  return last;
}

/**
 * Returns the builder of each event's `context`. Fields that do not change during a page's life
 * are read once here (Intl and screen reads are slow); `page` is read at the call (`pageContext()`),
 * the rest is built in the drain, off `track()`'s synchronous path.
 */
export function createContext(shared: boolean) {
  const n = globalThis.navigator;
  const s = globalThis.screen;
  const base: Record<string, unknown> = { library: { name: '@sightline/core', version } };
  if (n) (base.userAgent = n.userAgent), (base.locale = n.language);
  try {
    base.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {}
  if (s) base.screen = { width: s.width, height: s.height, density: globalThis.devicePixelRatio ?? 1 };

  // The campaign of the last query string: parsed once per page, not per event. Shared between
  // events, which are serialised and never mutated.
  let search: string | undefined;
  let campaign: Record<string, string> | undefined;
  // The last context: the same object while session and page stay the same.
  let last: EventContext | undefined;
  return (sessionId: string, page: EventContext['page']): EventContext => {
    if (shared && last?.sessionId === sessionId && last.page === page) return last;
    const c = { ...base, sessionId } as EventContext;
    if (page) {
      c.page = shared ? page : { ...page };
      if (page.search !== search) {
        search = page.search;
        campaign = undefined;
        // `utm_*` parameters as Segment's `context.campaign` (`utm_campaign` becomes `name`).
        new URLSearchParams(search).forEach((v, k) => {
          if (v && /^utm_/.test(k)) (campaign ??= {})[k == 'utm_campaign' ? 'name' : k.slice(4)] = v;
        });
      }
      if (campaign) c.campaign = campaign;
    }
    return (last = c);
  };
}
