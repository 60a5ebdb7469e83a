type Listener<T> = (payload: T) => void;

export type Emitter<M extends object> = ReturnType<typeof createEmitter<M>>;

/** A typed event emitter whose listeners can never throw into the emitter. */
export function createEmitter<M extends object>(onListenerError: (err: unknown) => void) {
  let listeners: { [K in keyof M]?: Set<Listener<M[K]>> } = {};
  return {
    on<K extends keyof M>(type: K, fn: Listener<M[K]>): () => void {
      (listeners[type] ??= new Set()).add(fn);
      return () => void listeners[type]?.delete(fn);
    },
    emit<K extends keyof M>(type: K, payload: M[K]): void {
      listeners[type]?.forEach((fn) => {
        try {
          fn(payload);
        } catch (err) {
          onListenerError(err);
        }
      });
    },
    clear(): void {
      listeners = {};
    },
  };
}
