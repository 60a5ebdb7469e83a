import { describe, expect, it } from 'vitest';
import { unstable_applyFrame as applyFrame, type Cursor } from '../index';

const at = (seq: number, epoch = 'a'): Cursor => ({ seq, epoch });

describe('applyFrame (protocol 9.5)', () => {
  it('delivers only seq == cursor + 1', () => {
    expect(applyFrame(at(4), { type: 'message', seq: 5 })).toEqual(['deliver', at(5)]);
    expect(applyFrame(at(4), { type: 'message', seq: 4 })).toEqual(['drop', at(4)]);
    expect(applyFrame(at(4), { type: 'message', seq: 1 })).toEqual(['drop', at(4)]);
  });

  it('a message that skips ahead is a gap: dropped, cursor kept', () => {
    expect(applyFrame(at(4), { type: 'message', seq: 7 })).toEqual(['gap', at(4)]);
  });

  it('drops messages before any cursor (the subscribed answer is on its way)', () => {
    expect(applyFrame(undefined, { type: 'message', seq: 1 })).toEqual(['drop', undefined]);
  });

  it('adopts the first subscribed', () => {
    expect(applyFrame(undefined, { type: 'subscribed', seq: 9, epoch: 'a' })).toEqual(['none', at(9)]);
  });

  it('keeps its cursor on a subscribed of the same epoch, from either transport', () => {
    expect(applyFrame(at(12), { type: 'subscribed', seq: 9, epoch: 'a' })).toEqual(['none', at(12)]);
    expect(applyFrame(at(12), { type: 'subscribed', seq: 15, epoch: 'a' })).toEqual(['none', at(12)]);
  });

  it('a subscribed of another epoch is a reset', () => {
    expect(applyFrame(at(12), { type: 'subscribed', seq: 3, epoch: 'b' })).toEqual(['reset', at(3, 'b')]);
  });

  it('a reset answering our cursor moves it and tells the listener', () => {
    expect(applyFrame(at(12), { type: 'reset', seq: 900, epoch: 'a', since: 12 })).toEqual(['reset', at(900)]);
    expect(applyFrame(at(12), { type: 'reset', seq: 4, epoch: 'b', since: 12 })).toEqual(['reset', at(4, 'b')]);
    expect(applyFrame(undefined, { type: 'reset', seq: 4, epoch: 'b', since: null })).toEqual(['none', at(4, 'b')]);
  });

  it('ignores a stale reset: it answers an older cursor, and the other transport already recovered', () => {
    // The socket resubscribed from 12 and got a reset to (b, 40); the poll's reset for the old cursor comes later.
    const [, cur] = applyFrame(at(12), { type: 'reset', seq: 40, epoch: 'b', since: 12 });
    const [, moved] = applyFrame(cur, { type: 'message', seq: 41 });
    expect(applyFrame(moved, { type: 'reset', seq: 41, epoch: 'b', since: 12 })).toEqual(['none', at(41, 'b')]);
  });

  it('a sequence of frames from two transports delivers every seq once, in order', () => {
    let cur: Cursor | undefined;
    const delivered: number[] = [];
    const frames = [
      { type: 'subscribed', seq: 0, epoch: 'a' },
      { type: 'message', seq: 1 },
      { type: 'message', seq: 2 },
      { type: 'subscribed', seq: 1, epoch: 'a' }, // the socket, from an older cursor
      { type: 'message', seq: 2 },
      { type: 'message', seq: 3 },
      { type: 'message', seq: 3 },
      { type: 'message', seq: 5 }, // gap
      { type: 'message', seq: 4 },
      { type: 'message', seq: 5 },
    ] as const;
    for (const f of frames) {
      const [verdict, next] = applyFrame(cur, f);
      cur = next;
      if (verdict === 'deliver') delivered.push(f.seq);
    }
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });
});
