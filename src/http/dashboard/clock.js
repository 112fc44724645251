// The server's clock as the page knows it: ages are measured against the server, not the local clock.

export function timeMs(iso) {
  if (typeof iso !== 'string' || iso === '') return NaN;
  return Date.parse(iso);
}

/** Server "now": the Date header of the last answer, moved on by the local clock (skew-proof ages). */
let clockOffset = 0;
export function now() {
  return Date.now() + clockOffset;
}

/** Moves "now" to the server's clock: `offset` = server time - local time, in ms. */
export function setClockOffset(offset) {
  clockOffset = offset;
}
