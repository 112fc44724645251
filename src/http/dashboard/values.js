// Defensive readers of untrusted JSON values: each returns a safe default for a missing or mistyped value.

export const str = (v) => (v === undefined || v === null ? '' : String(v));
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const list = (v) => (Array.isArray(v) ? v : []);
export const obj = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
export const values = (v) => Object.values(obj(v)).filter((x) => x !== null && typeof x === 'object');

/** Sets an own property even for a key like `__proto__` (keys come from upstream data). */
export function setOwn(map, key, value) {
  if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}
