import { DATA_HEADERS } from './security.ts';

/**
 * Response headers as node's flat list (`[name, value, name, value, ...]`), for answers written many times
 * with the same headers. `res.writeHead(status, list)` walks a list by index; given an object it walks it
 * with for-in and loads each value by name, and those lookups turn megamorphic once the thread has written
 * headers of many shapes (every Hono route answers with its own) — measured: the 304 path used ~25 % more CPU
 * than the bare server after mixed traffic with objects, and about the same with lists.
 */
export type HeaderList = string[];

export function headerList(headers: Readonly<Record<string, string>>): HeaderList {
  return Object.entries(headers).flat();
}

/**
 * A data answer's full header list as both paths send it: the security headers (security.ts, the one source
 * Hono's middleware adds too), the answer's own, and Content-Length when it has a body.
 */
export function dataHeaderList(headers: Readonly<Record<string, string>>, body: Uint8Array | null): HeaderList {
  return headerList({ ...DATA_HEADERS, ...headers, ...(body ? { 'Content-Length': String(body.byteLength) } : {}) });
}
