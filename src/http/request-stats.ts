import type { Registry } from 'prom-client';
import { HistogramCounts } from '../histogram-counts.ts';
import { customMetric, histogramSamples } from './prom-custom.ts';

/** One (method, route, status) series: a request count, a latency sum and per-bucket counts. */
export class RequestSeries extends HistogramCounts {
  constructor(readonly labels: Readonly<Record<'method' | 'route' | 'status', string>>, bounds: readonly number[]) {
    super(bounds);
  }
}

/**
 * The HTTP request counter and latency histogram, kept as plain numbers per series.
 *
 * Why not prom-client's Counter and Histogram: each of their observations validates and hashes the label set
 * and looks a bucket up by its bound as a string key — on the 304 path that was a fifth of the HTTP thread's
 * CPU. Here an answered request costs a few additions; the samples are handed to prom-client's Registry only
 * when /metrics is scraped (prom-custom.ts).
 */
export class RequestStats {
  private readonly series = new Map<string, RequestSeries>();

  constructor(private readonly bounds: readonly number[]) {}

  /** The series of one label set, created on first use (route is a pattern, never a raw path). */
  of(method: string, route: string, status: number): RequestSeries {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new RequestSeries({ method, route, status: String(status) }, this.bounds)));
    return s;
  }

  /** Registers the counter (`name`) and the histogram (`latencyName`) in `registry`. */
  register(registry: Registry, counter: { name: string; help: string }, latency: { name: string; help: string }): void {
    const all = () => [...this.series.values()];
    registry.registerMetric(customMetric(counter, 'counter', () => all().map((s) => ({ value: s.count, labels: s.labels }))));
    registry.registerMetric(customMetric(latency, 'histogram',
      () => all().flatMap((s) => histogramSamples(latency.name, this.bounds, s, s.labels))));
  }
}
