/**
 * Keys by the time each is next due: a binary min-heap with one live deadline per key (a rescheduled or
 * cancelled key's older entries are skipped when they surface). What lets the store re-judge only the stuck
 * verdicts that can have flipped, not every watched app on every pass.
 */
export class DeadlineQueue {
  private readonly at = new Map<string, number>();
  private heap: { at: number; key: string }[] = [];

  get size(): number {
    return this.at.size;
  }

  /** `at` Infinity (never due) cancels. */
  schedule(key: string, at: number): void {
    if (!Number.isFinite(at)) { this.cancel(key); return; }
    if (this.at.get(key) === at) return;
    this.at.set(key, at);
    this.push({ at, key });
    // stale entries are skipped lazily; rebuild when they outnumber the live ones, so the heap stays bounded
    if (this.heap.length > 64 && this.heap.length > 2 * this.at.size) this.rebuild();
  }

  cancel(key: string): void {
    this.at.delete(key);
  }

  /** Keys due at `now` (deadline <= now), each once; they are no longer scheduled. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const top = this.pop();
      if (this.at.get(top.key) !== top.at) continue;
      this.at.delete(top.key);
      due.push(top.key);
    }
    return due;
  }

  private rebuild(): void {
    this.heap = [];
    for (const [key, at] of this.at) this.push({ at, key });
  }

  private push(e: { at: number; key: string }): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      h[p] = e;
      i = p;
    }
  }

  private pop(): { at: number; key: string } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length === 0) return top;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top;
  }
}
