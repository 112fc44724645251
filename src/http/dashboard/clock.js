// The server's clock as the page knows it: ages are measured against the server, not the local clock.

/** Go's zero time (`0001-01-01T00:00:00Z`): what Go writes for a time it never had, so no time at all. */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z'); // -62135596800000

/** An ISO time in ms; NaN for no time: not a string, empty, unparsable, or Go's zero time. */
export function timeMs(iso) {
  if (typeof iso !== 'string' || iso === '') return NaN;
  const t = Date.parse(iso);
  return t === ZERO_TIME_MS ? NaN : t;
}

/**
 * Time order of two ISO times, however their fractions are written (Go trims trailing zeros: `…00.5Z` is later
 * than `…00.123Z`, `…00Z` earlier than both, which text order gets wrong); no time sorts first.
 */
export function byTime(a, b) {
  const x = timeMs(a);
  const y = timeMs(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number(!Number.isNaN(x)) - Number(!Number.isNaN(y));
  return x - y;
}

/** Whether `iso` is Go's zero time (a time the payload left out), which reads as no time. */
export const isZeroTime = (iso) => typeof iso === 'string' && Date.parse(iso) === ZERO_TIME_MS;

/** Server "now": the server's clock as live-state.js last estimated it (Date headers, change events), moved on by the local clock (skew-proof ages). */
let clockOffset = 0;
export function now() {
  return Date.now() + clockOffset;
}

/** Moves "now" to the server's clock: `offset` = server time - local time, in ms. */
export function setClockOffset(offset) {
  clockOffset = offset;
}
