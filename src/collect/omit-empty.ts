import { GO_ZERO_TIME, isObj } from '../model/index.ts';

/** Go's `omitempty`: zero values are left out (an empty list or map too; put is not used for structs). */
export function put<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value === undefined || value === '' || value === 0 || value === false) return;
  if (Array.isArray(value) && value.length === 0) return;
  if (isObj(value) && Object.keys(value).length === 0) return;
  out[key] = value;
}

/**
 * An `omitempty` time key (a Conv.time() value): left out when it is the zero instant, which goTimeText writes
 * as GO_ZERO_TIME however the Chart Repo spelled it. (Not in put: a string key may hold that text as data.)
 */
export function putTime<T extends object, K extends keyof T>(out: T, key: K, value: T[K] & string): void {
  if (value !== GO_ZERO_TIME) out[key] = value;
}
