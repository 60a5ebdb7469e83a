/** Runs a callback later, once. */
export type Scheduler = (run: () => void) => void;

/**
 * The next animation frame, or 100 ms where frames never come: Node and server renders have no
 * `requestAnimationFrame`, and hidden tabs pause it (the timeout bounds the buffer there; browsers
 * run it about once a second).
 */
export const nextFrame: Scheduler = (fn) => {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    fn();
  };
  if (typeof requestAnimationFrame == 'function') requestAnimationFrame(run);
  setTimeout(run, 100);
};

/**
 * Collects items and hands them to `flush` together, once per `schedule` tick (an animation frame):
 * a burst of hundreds of messages becomes one store update, so React renders once per frame.
 */
export function createFrameBatcher<T>(flush: (items: T[]) => void, schedule: Scheduler = nextFrame): (item: T) => void {
  let items: T[] = [];
  return (item) => {
    if (items.push(item) == 1)
      schedule(() => {
        const batch = items;
        items = [];
        flush(batch);
      });
  };
}
