import { listen } from './listen';

/** Whether the page is visible. Replace it through `visibilityManager`. */
export interface VisibilityManager {
  isVisible(): boolean;
  /** Called with the new state; returns the unsubscribe function. */
  subscribe(listener: (visible: boolean) => void): () => void;
}

/** `document.visibilityState` and its change event; always visible where there is no `document`. */
export function createVisibilityManager(): VisibilityManager {
  const doc = globalThis.document as Document | undefined;
  const isVisible = () => doc?.visibilityState !== 'hidden';
  return {
    isVisible,
    subscribe: (listener) => listen(doc, { visibilitychange: () => listener(isVisible()) }),
  };
}
