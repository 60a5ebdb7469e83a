import type { PrivacyRule, Properties, SightlineEvent } from './types';

/** Property rules made by {@link privacyRules}, ready to run on an event. */
export type PrivacyRules = (e: SightlineEvent, onFail: (err: unknown, rule: PrivacyRule) => void) => Promise<SightlineEvent>;

/** Privacy options: property rules and Global Privacy Control. */
export interface PrivacyOptions {
  /**
   * Rules applied to `properties` and `traits` of every event before it is stored or sent, made by
   * `privacyRules([...])` (an import, so apps without rules do not ship the code).
   * @default none
   */
  rules?: PrivacyRules;
  /** Treat `navigator.globalPrivacyControl === true` as an opt-out (an explicit `optIn()` overrides it). @default false */
  honorGlobalPrivacyControl?: boolean;
}

/** Lowercase hex SHA-256 of a UTF-8 string through WebCrypto. Rejects where `crypto.subtle` is missing (insecure origins). */
export async function sha256Hex(s: string): Promise<string> {
  const d = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d), (b) => (b + 256).toString(16).slice(1)).join('');
}

/**
 * Compile property rules for `createAnalytics({ privacy: { rules } })`.
 *
 * @example
 * createAnalytics({ writeKey, privacy: { rules: privacyRules([{ path: 'email', action: 'hash' }, { path: 'card', action: 'mask' }]) } });
 */
export function privacyRules(rules: readonly PrivacyRule[]): PrivacyRules {
  return (e, onFail) => applyPrivacy(e, rules, onFail);
}

/**
 * Apply `rules` to a copy of the event's `properties` and `traits` (copy-on-write along each path,
 * so the host's objects are never mutated). When a hash cannot be computed the value is removed,
 * never sent in clear, and `onFail` is told.
 */
export async function applyPrivacy(e: SightlineEvent, rules: readonly PrivacyRule[], onFail: (err: unknown, rule: PrivacyRule) => void): Promise<SightlineEvent> {
  const out = { ...e };
  for (const rule of rules)
    for (const field of ['properties', 'traits'] as const) if (out[field]) out[field] = await rewrite(out[field], rule.path.split('.'), rule, onFail);
  return out;
}

async function rewrite(obj: Properties, [key, ...rest]: string[], rule: PrivacyRule, onFail: (err: unknown, rule: PrivacyRule) => void): Promise<Properties> {
  if (!obj || typeof obj != 'object' || !{}.hasOwnProperty.call(obj, key!)) return obj;
  const copy: Properties = Array.isArray(obj) ? ([...obj] as unknown as Properties) : { ...obj };
  const v = obj[key!];
  if (rest.length) copy[key!] = await rewrite(v as Properties, rest, rule, onFail);
  else if (rule.action == 'remove') delete copy[key!];
  else
    try {
      copy[key!] = rule.action == 'mask' ? '***' : await sha256Hex(typeof v == 'string' ? v : JSON.stringify(v));
    } catch (err) {
      delete copy[key!];
      onFail(err, rule);
    }
  return copy;
}
