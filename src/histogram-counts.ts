import type { HistogramSample } from './protocol.ts';

/**
 * A histogram as plain numbers: an observation costs a few additions and no metrics library is loaded (the
 * store thread counts its passes with it; prom-client renders the counts in the HTTP thread).
 */
export class HistogramCounts {
  count = 0;
  sum = 0;
  /** non-cumulative: buckets[i] counts observations in (bounds[i-1], bounds[i]]; the last slot is +Inf */
  readonly buckets: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    this.count += 1;
    this.sum += value;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i += 1;
    this.buckets[i]! += 1;
  }

  /** As it crosses a thread: plain numbers. */
  toSample(): HistogramSample {
    return { count: this.count, sum: this.sum, buckets: [...this.buckets] };
  }
}
