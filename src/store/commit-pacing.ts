/**
 * How long the store waits after a commit before the next: twice what a commit costs, so under a burst of
 * messages about a third of the thread goes to building snapshots. The cost is a moving average, not the last
 * commit's: one slow commit (a collection, a first compile) held the changes behind it for twice its time —
 * a 35 ms commit held the next NATS event 69 ms (`npm run bench:events` p99 55–99 ms against its 50) — while a
 * burst of costly commits still paces itself within a few of them.
 */
export class CommitPacing {
  private cost = 0;

  constructor(private readonly minMs: number, private readonly weight = 0.25) {}

  noteCost(ms: number): void {
    this.cost += this.weight * (ms - this.cost);
  }

  intervalMs(): number {
    return Math.max(this.minMs, 2 * this.cost);
  }
}
