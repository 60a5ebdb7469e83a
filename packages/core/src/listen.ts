/**
 * Add DOM event listeners; returns the function removing them. A no-op where `target` is missing
 * or is not an EventTarget (SSR, Node, workers without `document`).
 */
export function listen(target: unknown, handlers: Record<string, () => void>): () => void {
  const t = target as Partial<EventTarget> | undefined;
  for (const k in handlers) t?.addEventListener?.(k, handlers[k]!);
  return () => {
    for (const k in handlers) t?.removeEventListener?.(k, handlers[k]!);
  };
}
