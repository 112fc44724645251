import { setPriority } from 'node:os';
import { lazyThreadLogger } from './lazy-log.ts';

/**
 * The nice value of the threads that work in the background (collectors, compression). On two cores a
 * 10,000-app pass costs about a core; at nice 10 the scheduler gives those threads a tenth of the weight of
 * the HTTP and store threads when they compete, so answering requests comes first and passes take longer.
 */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the priority of the calling thread only: on Linux a thread has its own nice value, and
 * setpriority(PRIO_PROCESS, 0) — what `os.setPriority(n)` calls — applies to the caller. Lowering needs no
 * privilege; where it is refused or unsupported (a sandbox without setpriority) the thread runs at normal
 * priority and says so once. Returns whether it took.
 */
export function runInBackground(thread: string, nice = BACKGROUND_NICE): boolean {
  try {
    setPriority(nice);
    return true;
  } catch (err) {
    lazyThreadLogger(thread).warn({ err: (err as Error).message, nice },
      'could not lower this thread\'s priority: it competes with the HTTP thread at normal priority');
    return false;
  }
}
