/**
 * Work cut into turns: a generator that yields where it may pause. Driven at once (runNow) it is plain
 * synchronous code; driven in turns (runInTurns) the thread answers queries between slices of it, so a
 * reader never waits for more than a slice. Only work that leaves what readers see untouched may pause.
 */
export type Turns<T> = Generator<void, T, void>;

export function runNow<T>(work: Turns<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
  }
}

/** a slice: long enough that the pauses cost little, short enough to be lost in a query's latency */
const SLICE_MS = 4;

export async function runInTurns<T>(work: Turns<T>, sliceMs = SLICE_MS): Promise<T> {
  let started = performance.now();
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    if (performance.now() - started >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      started = performance.now();
    }
  }
}
