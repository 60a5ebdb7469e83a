/** At most `max` holders per key at once (sockets of a project, waiting polls of a project). */
export interface ConcurrencyLimit {
  /** Take a slot for `key`: its release (idempotent), or `null` when `key` already holds `max`. */
  acquire(key: string): (() => void) | null;
  /** Slots `key` holds now. */
  count(key: string): number;
}

/** Create a per-key counter with a cap (pure, no timers: a slot lasts until its release). */
export function createConcurrencyLimit(max: number): ConcurrencyLimit {
  const counts = new Map<string, number>();
  return {
    acquire(key) {
      const held = counts.get(key) ?? 0;
      if (held >= max) return null;
      counts.set(key, held + 1);
      let released = false;
      return () => {
        // Called from several end paths (close event, finally): count each slot once.
        if (released) return;
        released = true;
        const left = (counts.get(key) ?? 1) - 1;
        // Drop keys at zero, so projects seen once do not accumulate.
        if (left > 0) counts.set(key, left);
        else counts.delete(key);
      };
    },
    count: (key) => counts.get(key) ?? 0,
  };
}
