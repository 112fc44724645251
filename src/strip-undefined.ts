/**
 * `o` without its undefined members, for `{ ...DEFAULTS, ...stripUndefined(options) }`: a spread copies an
 * option given as `undefined` over its default, and `exactOptionalPropertyTypes` is off, so callers may pass one.
 */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
