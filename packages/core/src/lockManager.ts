/** Mutual exclusion across tabs. Replace it through `env.locks`. */
export interface LockManager {
  /**
   * Run `task` holding the lock `name` if nobody holds it; resolve `false` without running it
   * otherwise (`ifAvailable`: a busy lock means another tab is already flushing the same queue).
   * With `wait`, queue for the lock instead and run `task` once it is granted (also when the
   * holder's tab dies), then resolve `true`.
   */
  request(name: string, task: () => Promise<void>, wait?: boolean): Promise<boolean>;
}

/**
 * `navigator.locks` (Web Locks API: Chrome 69, Firefox 96, Safari 15.4) when present. Elsewhere the
 * task runs unlocked: tabs of older browsers may send the same events in parallel, which the
 * collector's messageId dedupe absorbs (design.md section 3: "navigator.locks where present").
 */
export function createLockManager(): LockManager {
  const locks = globalThis.navigator?.locks;
  return {
    request: (name, task, wait) =>
      locks
        ? (locks.request(name, { ifAvailable: !wait }, async (lock) => !!lock && (await task(), true)) as unknown as Promise<boolean>)
        : task().then(() => true),
  };
}

/**
 * A lock shared by every manager this function creates in the current realm: for several clients
 * on one shared storage in one page or process (tests, Node) where `navigator.locks` is missing.
 */
export function createLocalLockManager(): LockManager {
  return {
    request: async (name, task, wait) => {
      while (held.has(name)) {
        if (!wait) return false;
        await held.get(name);
      }
      const run = task();
      held.set(name, run.catch(() => {}));
      try {
        await run;
        return true;
      } finally {
        held.delete(name);
      }
    },
  };
}

// Lock name -> the holder's task, settled (waiters await it).
const held = new Map<string, Promise<void>>();
