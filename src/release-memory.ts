/**
 * A full pass reads the whole market at once (at 50,000 apps the app_flow thread's heap reaches ~180 MiB, the
 * Chart Repo's ~125 MiB, against ~30 and ~70 after), and all of it is garbage once the store has the pass. V8
 * would keep it until its next full collection, which in a thread that allocates little between passes came
 * 30-60 s later, on top of the other threads' start-up work: the process's peak. Full passes are rare (start,
 * a new store, app_flow every 60th pass), so the thread collects right after one: ~50 ms of its own time. The
 * store does the same once it has committed such a pass (PassMessage.bulk): the old values it replaced are garbage.
 *
 * `gc` exists when the process set `--expose-gc` before starting its threads (src/v8-flags.ts); elsewhere
 * (tests, a collector used in-process) this does nothing.
 */
export function releaseMemory(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}
