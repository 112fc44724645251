import type { Metric, Registry } from 'prom-client';

/** One (method, route, status) series: a request count, a latency sum and per-bucket counts. */
export class RequestSeries {
  count = 0;
  sum = 0;
  /** non-cumulative: buckets[i] counts observations in (bounds[i-1], bounds[i]]; the last slot is +Inf */
  readonly buckets: Float64Array;

  constructor(readonly labels: Readonly<Record<'method' | 'route' | 'status', string>>, private readonly bounds: readonly number[]) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    this.count += 1;
    this.sum += seconds;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i += 1;
    this.buckets[i]! += 1;
  }
}

interface Sample { value: number; labels: Record<string, string | number>; metricName?: string }

/**
 * The HTTP request counter and latency histogram, kept as plain numbers per series.
 *
 * Why not prom-client's Counter and Histogram: each of their observations validates and hashes the label set
 * and looks a bucket up by its bound as a string key — on the 304 path that was a fifth of the HTTP thread's
 * CPU. Here an answered request costs a few additions; the samples are handed to prom-client's Registry only
 * when /metrics is scraped, so the exposition format (and its escaping) stays the library's.
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
    // prom-client renders any object with name/help/type/aggregator/get(); its types list only its own classes,
    // and its maintainers call get() private (prometheus/client_js#245). That is a prom-client internal, so
    // package.json pins prom-client exactly: a new version is taken only after test/http/metrics.test.ts passes.
    const metric = (meta: { name: string; help: string }, type: 'counter' | 'histogram', values: () => Sample[]) => {
      const base = { ...meta, type, aggregator: 'sum' };
      return { ...base, get: async () => ({ ...base, values: values() }) } as unknown as Metric;
    };
    registry.registerMetric(metric(counter, 'counter', () => all().map((s) => ({ value: s.count, labels: s.labels }))));
    registry.registerMetric(metric(latency, 'histogram', () => all().flatMap((s) => this.histogramSamples(latency.name, s))));
  }

  private histogramSamples(name: string, s: RequestSeries): Sample[] {
    const out: Sample[] = [];
    let acc = 0;
    this.bounds.forEach((le, i) => {
      acc += s.buckets[i]!;
      out.push({ value: acc, labels: { le, ...s.labels }, metricName: `${name}_bucket` });
    });
    out.push(
      { value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: `${name}_bucket` },
      { value: s.sum, labels: s.labels, metricName: `${name}_sum` },
      { value: s.count, labels: s.labels, metricName: `${name}_count` },
    );
    return out;
  }
}
