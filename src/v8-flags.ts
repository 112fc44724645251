import { setFlagsFromString } from 'node:v8';

/**
 * V8 tuning for the whole process, set before any worker thread starts (each thread's isolate is created
 * with the flags of the moment; imported first by main.ts). Not `--optimize-for-size`: it kept the heaps
 * small (147 against 178 MiB at 1,000 apps in its day) but made every thread's JavaScript 2-3x slower (a
 * Chart Repo pass at 50,000 apps: 7.5 s of CPU with it, 2.5 s without). The heaps are kept small instead by
 * collecting at quiet moments (src/release-memory.ts HeapBound) and bounded young generations
 * (src/thread-limits.ts).
 */

/**
 * `gc()` in every thread, for one use: a thread collects its garbage right after a pass read in bulk (see
 * src/release-memory.ts) instead of holding it until V8's next full collection.
 */
setFlagsFromString('--expose-gc');
