// Defensive readers of untrusted JSON values: each returns a safe default for a missing or mistyped value.

export const str = (v) => (v === undefined || v === null ? '' : String(v));
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const list = (v) => (Array.isArray(v) ? v : []);
export const obj = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
export const values = (v) => Object.values(obj(v)).filter((x) => x !== null && typeof x === 'object');

/**
 * `table[key]` for a fixed table keyed by an upstream string, undefined unless the table has that key of its own:
 * a plain lookup would answer "constructor" or "__proto__" with what every object inherits.
 */
export const lookup = (table, key) => (typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined);

/** Sets an own property even for a key like `__proto__` (keys come from upstream data). */
export function setOwn(map, key, value) {
  if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}
