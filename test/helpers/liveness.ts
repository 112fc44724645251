/**
 * How long a test waits for something that must happen before calling it a failure. A liveness bound, not a
 * budget: far above what a machine loaded by other work makes of a few hundred milliseconds, far below
 * "never". How fast things are is measured in bench/, never asserted in tests.
 */
export const LIVENESS_MS = 30_000;

/** A pause between two looks at something; the wait for it to happen is bounded by LIVENESS_MS. */
export { sleep } from '../../bench/lib/net.ts';
