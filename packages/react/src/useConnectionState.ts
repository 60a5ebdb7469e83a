import type { ConnectionSnapshot, RealtimeSnapshot } from './types';
import { useRealtime } from './useRealtime';

const NONE: readonly string[] = [];
const connection = (s: RealtimeSnapshot) => s.connection;

/**
 * The provider's connection: `{ state, reason }` with state `connecting | open | polling |
 * reconnecting | offline | closed`. Re-renders on state changes only, never on messages.
 */
export function useConnectionState(): ConnectionSnapshot {
  return useRealtime(NONE, connection);
}
