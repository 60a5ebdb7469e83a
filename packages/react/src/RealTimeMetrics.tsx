import type { ReactNode } from 'react';
import { useMetrics, type MetricsResult, type UseMetricOptions } from './useMetric';

export interface RealTimeMetricsProps extends UseMetricOptions {
  /** Metric names: channels `metrics:<name>`. */
  metrics: readonly string[];
  children: (result: MetricsResult) => ReactNode;
}

/**
 * Render prop over `useMetrics`, for live numbers where hooks do not fit.
 *
 * @example
 * <RealTimeMetrics metrics={['page_views', 'conversions']}>
 *   {({ metrics, isLoading }) => (isLoading ? <Spinner /> : <b>{metrics.page_views?.count}</b>)}
 * </RealTimeMetrics>
 */
export function RealTimeMetrics({ metrics, children, ...options }: RealTimeMetricsProps) {
  return <>{children(useMetrics(metrics, options))}</>;
}
