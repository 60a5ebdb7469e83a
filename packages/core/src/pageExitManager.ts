import { listen } from './listen';

/** Signals that the page may be about to go away. Replace it through `env.pageExit`. */
export interface PageExitManager {
  subscribe(listener: () => void): () => void;
}

/**
 * `pagehide` and `visibilitychange` to hidden. `unload`/`beforeunload` are not used: they do not
 * fire reliably on mobile and block the back/forward cache; `visibilitychange` is the last event
 * a mobile browser guarantees before killing a backgrounded tab.
 */
export function createPageExitManager(): PageExitManager {
  return {
    subscribe(listener) {
      const offWindow = listen(globalThis, { pagehide: listener });
      const offDocument = listen(globalThis.document, { visibilitychange: () => document.visibilityState == 'hidden' && listener() });
      return () => (offWindow(), offDocument());
    },
  };
}
