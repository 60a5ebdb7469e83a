import type { Alert, ChannelSnapshot } from './types';
import { useChannel } from './useChannel';

/** The newest state of each alert, newest first: a later message for the same `id` replaces it. */
const latest = (c: ChannelSnapshot<Alert>): readonly Alert[] => {
  const seen = new Set<string>();
  const alerts: Alert[] = [];
  for (let i = c.messages.length; i--; ) {
    const alert = c.messages[i]!.data;
    if (alert && !seen.has(alert.id)) alerts.push(seen.add(alert.id) && alert);
  }
  return alerts;
};

/**
 * Live alerts (channel `alerts`), newest first, each in its latest state (`triggered`,
 * `acknowledged`, `resolved`...), from the messages the provider keeps (`historySize`).
 */
export function useAlerts(): readonly Alert[] {
  return useChannel('alerts', { select: latest });
}
