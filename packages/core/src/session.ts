import type { KeyValueStore } from './keyValueStore';
import { uuidv7 } from './uuid';

/** Inactivity after which the next event starts a new session (GA, Segment, Amplitude use 30 min). */
export const SESSION_TIMEOUT = 30 * 60 * 1000;

const KEY = 'sightline.session';

/**
 * Session ids shared by every tab: `id|lastActivity` lives in the key-value store (localStorage),
 * so activity in one tab keeps the session of the others alive.
 */
export function createSession(kv: KeyValueStore, now: () => number) {
  // The id read last and when: the store is read at most once a second (a localStorage read costs
  // about 1 µs in Chromium), so another tab's reset() shows here within a second.
  let id = '';
  let readAt = NaN;
  return {
    /** The current session id; `touch` records activity. */
    id(touch: boolean): string {
      const t = now();
      if (t - readAt < 1000 && t >= readAt) return id;
      let last;
      [id, last] = (kv.get(KEY) ?? '').split('|') as [string, string?];
      const age = t - Number(last);
      // A new session: none yet, 30 minutes idle, or a clock that went backwards.
      if (!id || !(age >= 0 && age < SESSION_TIMEOUT)) kv.set(KEY, `${(id = uuidv7(t))}|${t}`);
      // Writing on every event costs a synchronous localStorage write; once a second is precise enough.
      else if (touch && age > 1000) kv.set(KEY, `${id}|${t}`);
      readAt = t;
      return id;
    },
    reset(): void {
      readAt = NaN;
      kv.remove(KEY);
    },
  };
}
