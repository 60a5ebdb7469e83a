import type { KeyValueStore } from './keyValueStore';

/** Consent options. */
export interface ConsentOptions {
  /**
   * Granted (`true`) or denied categories. An event sent with `{ category }` is dropped unless its
   * category is granted here or later through `setConsent()`; events without a category always pass.
   * @default {}
   */
  categories?: Record<string, boolean>;
}

const KEY = 'sightline.optout';

/** Opt-out (persisted, shared by tabs), Global Privacy Control and consent categories. */
export function createConsent(kv: KeyValueStore, options: ConsentOptions | undefined, honorGpc: boolean) {
  const categories: Record<string, boolean> = { ...options?.categories };
  const stored = kv.get(KEY);
  // An explicit choice ('1' out, '0' in) wins over the browser's GPC signal.
  let out = stored ? stored == '1' : honorGpc && (globalThis.navigator as { globalPrivacyControl?: boolean } | undefined)?.globalPrivacyControl === true;
  return {
    /** Whether an event of `category` (none: any event) may be tracked: not opted out, and the category granted. */
    allows: (category?: string): boolean => !out && (category == null || categories[category] === true),
    set: (c: Record<string, boolean>): void => void Object.assign(categories, c),
    optOut(): void {
      out = true;
      kv.set(KEY, '1');
    },
    optIn(): void {
      out = false;
      kv.set(KEY, '0');
    },
  };
}
