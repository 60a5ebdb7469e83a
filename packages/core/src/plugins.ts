import type { Plugin, SightlineEvent } from './types';

// A plugin whose load() hangs must not hold events forever.
const LOAD_TIMEOUT = 3000;

/**
 * Runs plugins by stage, each isolated: a throw or rejection is reported through `onFail`
 * and the event continues as if that plugin had returned it unchanged.
 */
export function createPlugins(plugins: readonly Plugin[], fail: (plugin: Plugin, err: unknown) => void) {
  const failed = new Set<Plugin>();
  const stage = (type: Plugin['type']) => plugins.filter((p) => p.type == type && p.process);
  const chain = [...stage('before'), ...stage('enrichment')];
  const destinations = stage('destination');
  let ready: Promise<unknown> | undefined;

  const runChain = async (e: SightlineEvent): Promise<SightlineEvent | null> => {
    for (const p of chain) {
      if (failed.has(p)) continue;
      try {
        const r = await p.process!(e);
        if (r === null) return null;
        if (r && typeof r == 'object') e = r;
      } catch (err) {
        fail(p, err);
      }
    }
    return e;
  };

  return {
    /** Resolves once every `load()` settled (or timed out). */
    load: (): Promise<unknown> =>
      (ready ??= Promise.all(
        plugins.map(
          (p) =>
            p.load &&
            Promise.race([
              Promise.resolve()
                .then(() => p.load!())
                .catch((err) => (failed.add(p), fail(p, err))),
              new Promise((r) => setTimeout(r, LOAD_TIMEOUT)),
            ]),
        ),
      )),
    /** `before` then `enrichment`; `null` when a plugin dropped the event. Synchronous when there are none. */
    run: (e: SightlineEvent): SightlineEvent | null | Promise<SightlineEvent | null> => (chain[0] ? runChain(e) : e),
    /** Hand the final event to every destination, without waiting: a slow one never delays delivery. */
    deliver(e: SightlineEvent): void {
      for (const p of destinations) {
        if (failed.has(p)) continue;
        // structuredClone would be safer but costs bytes; destinations get a shallow copy.
        new Promise((r) => r(p.process!({ ...e }))).catch((err) => fail(p, err));
      }
    },
  };
}
