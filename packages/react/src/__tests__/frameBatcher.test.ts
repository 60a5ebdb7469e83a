import { describe, expect, it } from 'vitest';
import { createFrameBatcher, nextFrame } from '../frameBatcher';

/** A scheduler the test ticks by hand, like animation frames. */
function frames() {
  const pending: (() => void)[] = [];
  return { schedule: (run: () => void) => void pending.push(run), tick: () => pending.splice(0).forEach((run) => run()), pending };
}

describe('createFrameBatcher', () => {
  it('hands a burst of 500 items to flush once, on the next frame, in order', () => {
    const f = frames();
    const flushes: number[][] = [];
    const push = createFrameBatcher<number>((items) => flushes.push(items), f.schedule);
    for (let i = 0; i < 500; i++) push(i);
    expect(f.pending).toHaveLength(1);
    expect(flushes).toEqual([]);
    f.tick();
    expect(flushes).toHaveLength(1);
    expect(flushes[0]).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('schedules again for items that come after a flush, and never for an empty frame', () => {
    const f = frames();
    const flushes: string[][] = [];
    const push = createFrameBatcher<string>((items) => flushes.push(items), f.schedule);
    push('a');
    f.tick();
    f.tick();
    push('b');
    push('c');
    f.tick();
    expect(flushes).toEqual([['a'], ['b', 'c']]);
    expect(f.pending).toHaveLength(0);
  });

  it('items pushed by a flush go to the next frame', () => {
    const f = frames();
    const flushes: number[][] = [];
    const push = createFrameBatcher<number>((items) => {
      flushes.push(items);
      if (items[0] == 1) push(2);
    }, f.schedule);
    push(1);
    f.tick();
    f.tick();
    expect(flushes).toEqual([[1], [2]]);
  });
});

describe('nextFrame', () => {
  it('runs once on an animation frame where there are frames', async () => {
    let runs = 0;
    nextFrame(() => runs++);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(runs).toBe(1);
  });

  it('falls back to a timeout without requestAnimationFrame (Node, server render, hidden tab)', async () => {
    const g = globalThis as { requestAnimationFrame?: unknown };
    const saved = g.requestAnimationFrame;
    delete g.requestAnimationFrame;
    try {
      let runs = 0;
      nextFrame(() => runs++);
      expect(runs).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(runs).toBe(1);
    } finally {
      g.requestAnimationFrame = saved;
    }
  });
});
