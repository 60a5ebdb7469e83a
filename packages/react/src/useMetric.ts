import type { RealtimeChannelError } from '@sightline/realtime';
import { useMemo } from 'react';
import { METRICS } from './realtimeReducer';
import type { MetricUpdate, RealtimeSnapshot } from './types';
import { useRealtime } from './useRealtime';

export interface UseMetricOptions {
  /** Which bucket width to read: `1m` or `1s`. @default '1m' */
  interval?: string | undefined;
}

export interface MetricsResult {
  /** Per name: the newest bucket's totals (`metrics.page_views?.count`); `undefined` until its first update. */
  metrics: Readonly<Record<string, MetricUpdate | undefined>>;
  /** `true` until every metric has had an update (or its channel was refused). */
  isLoading: boolean;
  /** The first refusal of a metric's channel. */
  error: RealtimeChannelError | undefined;
}

export interface MetricResult {
  /** The newest bucket's totals; `undefined` until the first update. */
  data: MetricUpdate | undefined;
  isLoading: boolean;
  error: RealtimeChannelError | undefined;
}

/**
 * Live totals of several metrics (channels `metrics:<name>`, protocol 9.6). The component re-renders
 * only when one of their values for `interval` changes, at most once per animation frame.
 */
export function useMetrics(names: readonly string[], options: UseMetricOptions = {}): MetricsResult {
  const { interval = '1m' } = options;
  const key = names.join('\n');
  const selector = useMemo(() => {
    let out: MetricsResult | undefined;
    return (s: RealtimeSnapshot): MetricsResult => {
      const metrics: Record<string, MetricUpdate | undefined> = {};
      let isLoading = false;
      let error: RealtimeChannelError | undefined;
      for (const n of names) {
        const refused = s.channels[METRICS + n]?.error;
        const value = (metrics[n] = s.metrics[n]?.[interval]);
        error ??= refused;
        isLoading ||= !value && !refused;
      }
      // The same answer while nothing it holds changed: the component does not re-render.
      return out && out.error === error && out.isLoading === isLoading && names.every((n) => out!.metrics[n] === metrics[n]) ? out : (out = { metrics, isLoading, error });
    };
    // `key` stands for the names' content.
  }, [key, interval]);
  return useRealtime(
    names.map((n) => METRICS + n),
    selector,
  );
}

/**
 * Live totals of one metric (channel `metrics:<name>`): `{ data, isLoading, error }`.
 *
 * @example
 * const { data, isLoading } = useMetric('page_views');
 * return isLoading ? <Spinner /> : <b>{data?.count}</b>;
 */
export function useMetric(name: string, options?: UseMetricOptions): MetricResult {
  const { metrics, isLoading, error } = useMetrics([name], options);
  const data = metrics[name];
  return useMemo(() => ({ data, isLoading, error }), [data, isLoading, error]);
}
