// Protocol 9.1: `metrics:<name>` with 1 to 200 characters (code points) and no control character.
const CHANNEL = /^(?:events|alerts|insights|health|metrics:[^\p{Cc}]{1,200})$/u;

/** Whether `value` names a channel of protocol 9.1. A channel never names a project. */
export function isChannelName(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL.test(value);
}
