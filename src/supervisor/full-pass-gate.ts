/**
 * Full passes one at a time. A collector's first pass for a store (at start, after a store or thread
 * restart) reads, normalizes and sends everything; run side by side, their transient memory adds up — at
 * 10,000 apps the start-up peak was ~1.5 x the steady RSS, the peak the pod's memory limit must allow.
 * A pass waits for the passes before it at most `maxWaitMs` (the collection deadline), so a hung source
 * delays the others' first pass by no more than it already delays readiness. (A collector whose first run only
 * subscribes, CollectorSpec.bulkFirstPass false, does not queue here.)
 */
export class FullPassGate {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly maxWaitMs: number) {}

  /** Waits for the turn; answers the function that ends it (call it once the pass is over). */
  async enter(): Promise<() => void> {
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => { leave = resolve; });
    const before = this.last;
    this.last = before.then(() => mine);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.maxWaitMs); });
    await Promise.race([before, waited]);
    clearTimeout(timer);
    return leave;
  }
}
