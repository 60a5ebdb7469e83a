/** A channel's state in the database: its epoch and the newest seq handed out. */
export interface ChannelHead {
  epoch: string;
  lastSeq: number;
}

/** The cursor a client sends: the last message it has, or `null` for "only what comes next". */
export type ClientCursor = { since: number; epoch: string } | null;

/**
 * Protocol 9.2 without the history read:
 * - `new`: no cursor, answer `subscribed` at the newest seq;
 * - `reset`: another epoch, ahead of the channel, or older than the history can hold by count;
 * - `current`: the client has everything;
 * - `read`: read the messages after `since`, then {@link checkResume}.
 */
export function planResume(cursor: ClientCursor, head: ChannelHead, historySize: number): 'new' | 'reset' | 'current' | 'read' {
  if (cursor === null) return 'new';
  if (cursor.epoch !== head.epoch || cursor.since > head.lastSeq) return 'reset';
  if (cursor.since === head.lastSeq) return 'current';
  // The history holds at most the seqs (lastSeq - size, lastSeq]: the next one must be among them.
  return cursor.since < head.lastSeq - historySize ? 'reset' : 'read';
}

/**
 * After reading the messages after `since` (oldest first, expired ones left out): resumable only
 * when the first is exactly `since + 1`. None at all means they expired (the plan saw newer seqs).
 */
export function checkResume(since: number, firstSeq: number | undefined): 'resume' | 'reset' {
  return firstSeq === since + 1 ? 'resume' : 'reset';
}
