import type { Metric } from 'prom-client';
import type { HistogramSample } from '../protocol.ts';

/** One sample as prom-client's Registry renders it. */
export interface PromSample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * A metric whose samples are plain numbers counted elsewhere (this thread's request stats, the store's
 * sample), handed to prom-client's Registry only when /metrics is scraped, so the exposition format (and its
 * escaping) stays the library's.
 *
 * prom-client renders any object with name/help/type/aggregator/get(); its types list only its own classes,
 * and its maintainers call get() private (prometheus/client_js#245). That is a prom-client internal, so
 * package.json pins prom-client exactly: a new version is taken only after test/http/metrics.test.ts passes.
 */
export function customMetric(
  meta: { name: string; help: string }, type: 'counter' | 'gauge' | 'histogram', values: () => PromSample[],
): Metric {
  const base = { ...meta, type, aggregator: 'sum' };
  return { ...base, get: async () => ({ ...base, values: values() }) } as unknown as Metric;
}

/** A histogram's samples (`_bucket` cumulative per bound and +Inf, `_sum`, `_count`) for one label set. */
export function histogramSamples(
  name: string, bounds: readonly number[], h: Omit<HistogramSample, 'buckets'> & { buckets: ArrayLike<number> }, labels: Record<string, string>,
): PromSample[] {
  const out: PromSample[] = [];
  let acc = 0;
  bounds.forEach((le, i) => {
    acc += h.buckets[i] ?? 0;
    out.push({ value: acc, labels: { le, ...labels }, metricName: `${name}_bucket` });
  });
  out.push(
    { value: h.count, labels: { le: '+Inf', ...labels }, metricName: `${name}_bucket` },
    { value: h.sum, labels, metricName: `${name}_sum` },
    { value: h.count, labels, metricName: `${name}_count` },
  );
  return out;
}
