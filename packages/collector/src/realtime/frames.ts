/** One message, serialized once and shared by every socket and poll answer that carries it. */
export interface MessageFrame {
  seq: number;
  /** The JSON text of `{"type":"message",...}`. */
  text: string;
}

/** `{"type":"message",...}` around `data`, already JSON text (from `JSON.stringify` or `jsonb::text`). */
export function messageText(channel: string, seq: number, kind: string, at: string, dataJson: string): string {
  return `{"type":"message","channel":${JSON.stringify(channel)},"seq":${seq},"kind":${JSON.stringify(kind)},"at":${JSON.stringify(at)},"data":${dataJson}}`;
}

export function subscribedText(channel: string, seq: number, epoch: string): string {
  return JSON.stringify({ type: 'subscribed', channel, seq, epoch });
}

export function resetText(channel: string, seq: number, epoch: string, since: number | null): string {
  return JSON.stringify({ type: 'reset', channel, seq, epoch, since });
}

export type ChannelErrorCode = 'invalid_channel' | 'too_many_subscriptions';

export function errorText(channel: unknown, code: ChannelErrorCode, message: string): string {
  return JSON.stringify({ type: 'error', channel: channel ?? null, code, message });
}
