/** The last message a client delivered on a channel (protocol 9.1): `seq` within `epoch`. */
export interface Cursor {
  seq: number;
  epoch: string;
}

/** The frames that move a cursor (protocol 9.2), as far as the bookkeeping needs them. */
export type CursorFrame =
  | { type: 'message'; seq: number }
  | { type: 'subscribed'; seq: number; epoch: string }
  | { type: 'reset'; seq: number; epoch: string; since: number | null };

/**
 * What to do with a frame:
 * - `deliver`: hand the message to the listeners (the cursor moved to it);
 * - `drop`: already delivered (it came by the other transport first) or stale;
 * - `gap`: it skips ahead; drop it and subscribe again from the cursor (protocol 9.2);
 * - `reset`: continuity is lost; tell the listeners so they refetch (the cursor moved);
 * - `none`: nothing to deliver (a cursor may have been adopted).
 */
export type Verdict = 'deliver' | 'drop' | 'gap' | 'reset' | 'none';

/**
 * Protocol 9.5 as a pure function: the verdict on `frame` and the cursor after it.
 * Two transports may answer for the same channel, so a frame can be late or duplicated.
 */
export function applyFrame(cur: Cursor | undefined, frame: CursorFrame): [Verdict, Cursor | undefined] {
  const { seq } = frame;
  if (frame.type === 'message') {
    // Before any `subscribed` we do not know where the stream starts: the answer is on its way.
    if (!cur || seq <= cur.seq) return ['drop', cur];
    return seq === cur.seq + 1 ? ['deliver', { seq, epoch: cur.epoch }] : ['gap', cur];
  }
  const next = { seq, epoch: frame.epoch };
  if (!cur) return ['none', next];
  if (frame.epoch !== cur.epoch) return ['reset', next];
  // Same epoch: our cursor is already valid there. A `subscribed` then only names where that
  // transport starts (a later skip is a gap). A `reset` counts only if it answers the cursor we
  // hold now; one that answers an older cursor (the other transport moved on since) is stale.
  return frame.type === 'reset' && frame.since === cur.seq ? ['reset', next] : ['none', cur];
}
